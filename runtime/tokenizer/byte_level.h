// The GPT-2 byte-to-character map of byte-level BPE (tokenizer stage): every byte gets a
// printable character, so vocabulary entries are text ("Ġ" is the byte 0x20).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace circuit::tok {

// The character byte b stands for.
char32_t byte_to_char(unsigned char b);
// The byte a character stands for, if it is one of the 256 map characters.
std::optional<unsigned char> char_to_byte(char32_t c);

// Each byte of `bytes` as its map character, UTF-8 encoded.
std::string bytes_to_mapped(std::string_view bytes);
// The bytes a vocabulary string stands for, or nullopt if it holds a character outside the map.
std::optional<std::string> mapped_to_bytes(std::string_view mapped);

}  // namespace circuit::tok
