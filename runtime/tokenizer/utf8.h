// UTF-8 reading and writing for the tokenizer stage: a decoder that never fails (invalid bytes
// come back as maximal invalid subparts, as Rust's from_utf8_lossy counts them) and the lossy
// conversion HF decode applies to token bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace circuit::tok {

struct Utf8Char {
  char32_t cp;        // the code point; U+FFFD when !valid
  std::uint32_t len;  // bytes consumed, at least 1
  bool valid;
};

// Reads the character starting at byte i (i < s.size()).
Utf8Char next_utf8(std::string_view s, std::size_t i);

void append_utf8(std::string& out, char32_t cp);

// `bytes` with every maximal invalid subpart replaced by U+FFFD.
std::string to_valid_utf8(std::string_view bytes);

}  // namespace circuit::tok
