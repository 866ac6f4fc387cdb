// GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the other 68 bytes to
// U+0100.. in byte order.
#include "runtime/tokenizer/byte_level.h"

#include <array>

#include "runtime/tokenizer/utf8.h"

namespace circuit::tok {
namespace {

bool maps_to_itself(unsigned b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

struct Maps {
  std::array<char32_t, 256> to_char{};
  std::array<std::string, 256> to_text{};
  Maps() {
    char32_t next = 0x100;
    for (unsigned b = 0; b < 256; ++b) {
      to_char[b] = maps_to_itself(b) ? b : next++;
      append_utf8(to_text[b], to_char[b]);
    }
  }
};

const Maps& maps() {
  static const Maps m;
  return m;
}

}  // namespace

char32_t byte_to_char(unsigned char b) { return maps().to_char[b]; }

std::optional<unsigned char> char_to_byte(char32_t c) {
  if (c < 0x100 && maps_to_itself(c)) return static_cast<unsigned char>(c);
  if (c >= 0x100 && c < 0x100 + 68) {
    // The k-th byte that does not map to itself maps to U+0100 + k.
    unsigned k = c - 0x100;
    for (unsigned b = 0; b < 256; ++b) {
      if (!maps_to_itself(b) && k-- == 0) return static_cast<unsigned char>(b);
    }
  }
  return std::nullopt;
}

std::string bytes_to_mapped(std::string_view bytes) {
  const Maps& m = maps();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) out += m.to_text[b];
  return out;
}

std::optional<std::string> mapped_to_bytes(std::string_view mapped) {
  std::string out;
  out.reserve(mapped.size());
  for (std::size_t i = 0; i < mapped.size();) {
    const Utf8Char c = next_utf8(mapped, i);
    if (!c.valid) return std::nullopt;
    const auto b = char_to_byte(c.cp);
    if (!b) return std::nullopt;
    out += static_cast<char>(*b);
    i += c.len;
  }
  return out;
}

}  // namespace circuit::tok
