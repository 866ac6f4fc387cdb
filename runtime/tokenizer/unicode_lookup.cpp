// Binary searches over the generated Unicode tables (unicode_tables.cpp), plus the Hangul
// syllable arithmetic that the tables leave out.
#include <algorithm>

#include "runtime/tokenizer/unicode_tables.h"

namespace circuit::tok {
namespace {

template <typename Row>
const Row* find_range(const Row* rows, std::size_t n, char32_t cp) {
  const Row* end = rows + n;
  const Row* it = std::upper_bound(rows, end, cp, [](char32_t c, const Row& r) { return c < r.first; });
  if (it == rows) return nullptr;
  --it;
  return cp <= it->last ? it : nullptr;
}

// Hangul syllables compose and decompose by arithmetic (Unicode 3.12).
constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount,
                   kSCount = kLCount * kNCount;

}  // namespace

CharClass char_class(char32_t cp) {
  if (cp < 0x80) {
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) return CharClass::Letter;
    if (cp >= '0' && cp <= '9') return CharClass::Number;
    if (cp == ' ' || (cp >= 9 && cp <= 13)) return CharClass::Space;
    return CharClass::Other;
  }
  const auto* r = find_range(tables::kClassRanges, tables::kClassRangeCount, cp);
  return r ? static_cast<CharClass>(r->value) : CharClass::Other;
}

std::uint8_t combining_class(char32_t cp) {
  if (cp < 0x300) return 0;
  const auto* r = find_range(tables::kCombiningRanges, tables::kCombiningRangeCount, cp);
  return r ? static_cast<std::uint8_t>(r->value) : 0;
}

bool canonical_decomposition(char32_t cp, char32_t& first, char32_t& second) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    const char32_t s = cp - kSBase;
    if (s % kTCount != 0) {  // LV + T
      first = cp - s % kTCount;
      second = kTBase + s % kTCount;
    } else {  // L + V
      first = kLBase + s / kNCount;
      second = kVBase + (s % kNCount) / kTCount;
    }
    return true;
  }
  const auto* begin = tables::kDecompositions;
  const auto* end = begin + tables::kDecompositionCount;
  const auto* it = std::lower_bound(begin, end, cp, [](const tables::Decomposition& d, char32_t c) { return d.cp < c; });
  if (it == end || it->cp != cp) return false;
  first = it->first;
  second = it->second;
  return true;
}

char32_t primary_composite(char32_t a, char32_t b) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase &&
      b < kTBase + kTCount)
    return a + (b - kTBase);
  const auto* begin = tables::kCompositions;
  const auto* end = begin + tables::kCompositionCount;
  const auto* it = std::lower_bound(begin, end, std::pair{a, b}, [](const tables::Composition& c, std::pair<char32_t, char32_t> k) {
    return c.first != k.first ? c.first < k.first : c.second < k.second;
  });
  if (it == end || it->first != a || it->second != b) return 0;
  return it->composite;
}

}  // namespace circuit::tok
