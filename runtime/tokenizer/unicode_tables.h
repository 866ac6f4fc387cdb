// Unicode tables of the tokenizer stage (generated into unicode_tables.cpp by
// scripts/gen_unicode_tables.py) and the lookups the pre-tokenizers and NFC read.
#pragma once

#include <cstddef>
#include <cstdint>

namespace circuit::tok {

// What a pre-tokenizer regex can ask about a code point: \p{L}, \p{N}, \s.
enum class CharClass : std::uint8_t { Other = 0, Letter = 1, Number = 2, Space = 3 };

CharClass char_class(char32_t cp);
inline bool is_letter(char32_t cp) { return char_class(cp) == CharClass::Letter; }
inline bool is_number(char32_t cp) { return char_class(cp) == CharClass::Number; }
inline bool is_space(char32_t cp) {
  return cp == U' ' || (cp >= 0x80 ? char_class(cp) == CharClass::Space : (cp >= 9 && cp <= 13));
}

// Canonical combining class (0 for starters).
std::uint8_t combining_class(char32_t cp);
// The canonical decomposition of cp (one or two code points; second 0 when one), or false.
bool canonical_decomposition(char32_t cp, char32_t& first, char32_t& second);
// The primary composite of a + b, or 0 when they do not compose.
char32_t primary_composite(char32_t a, char32_t b);

namespace tables {

struct ClassRange {
  std::uint32_t first, last, value;
};
struct Decomposition {
  std::uint32_t cp, first, second;
};
struct Composition {
  std::uint32_t first, second, composite;
};

extern const char* const kUnicodeVersion;
extern const ClassRange kClassRanges[];
extern const std::size_t kClassRangeCount;
extern const ClassRange kCombiningRanges[];
extern const std::size_t kCombiningRangeCount;
extern const Decomposition kDecompositions[];
extern const std::size_t kDecompositionCount;
extern const Composition kCompositions[];
extern const std::size_t kCompositionCount;

}  // namespace tables
}  // namespace circuit::tok
