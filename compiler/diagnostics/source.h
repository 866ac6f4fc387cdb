// SourceFile and Span: the text of one .circuit file and a byte range in it, with the line and
// column where it starts. Shared by every compiler stage so a diagnostic can point anywhere.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace circuit::compiler {

struct SourceText {
  std::string path;  // as the user named it (shown in diagnostics)
  std::string text;
  std::vector<uint32_t> line_starts;  // byte offset of each line's first character
  // Byte offset of each code point, plus one past the end; empty when the text is ASCII (the
  // parser counts code points, spans count bytes).
  std::vector<uint32_t> code_point_bytes;
  // Byte offset of the first invalid UTF-8 sequence, or -1 when the text is valid UTF-8.
  long long invalid_utf8_at = -1;

  SourceText(std::string path, std::string text);
  uint32_t byte_offset(size_t code_point) const {
    if (code_point_bytes.empty()) return static_cast<uint32_t>(std::min(code_point, text.size()));
    return code_point_bytes[std::min(code_point, code_point_bytes.size() - 1)];
  }
  // The code point index of a byte offset (the parser's unit); the inverse of byte_offset.
  size_t code_point_index(uint32_t offset) const;
  // 1-based line and column of a byte offset (columns count bytes). "\n", "\r\n" and a lone
  // "\r" each end a line, everywhere a position is computed.
  std::pair<int, int> line_col(uint32_t offset) const;
  int line_of(uint32_t offset) const;  // line_col's line alone
  std::string_view line(int line_number) const;  // without its newline
};

// A range of bytes [begin, end) in one source; `source` may be null for spans we synthesize.
struct Span {
  const SourceText* source = nullptr;
  uint32_t begin = 0;
  uint32_t end = 0;
  int line = 0;  // 1-based, of `begin`
  int col = 0;   // 1-based, of `begin`

  bool valid() const { return source != nullptr; }
  // The smallest span covering both (same source assumed).
  Span to(const Span& other) const;
  std::string_view text() const;
};

Span make_span(const SourceText& source, uint32_t begin, uint32_t end);

}  // namespace circuit::compiler
