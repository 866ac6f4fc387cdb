// SourceText line tables and Span helpers.
#include "compiler/diagnostics/source.h"

#include <algorithm>

namespace circuit::compiler {

SourceText::SourceText(std::string p, std::string t) : path(std::move(p)), text(std::move(t)) {
  line_starts.push_back(0);
  bool ascii = true;
  for (uint32_t i = 0; i < text.size(); ++i) {
    // "\n", "\r\n" and a lone "\r" (old Mac files) each end a line.
    if (text[i] == '\n' || (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n')))
      line_starts.push_back(i + 1);
    ascii &= static_cast<unsigned char>(text[i]) < 0x80;
  }
  if (ascii) return;
  // Code point boundaries, validating UTF-8 on the way (ANTLR rejects invalid input).
  for (uint32_t i = 0; i < text.size();) {
    code_point_bytes.push_back(i);
    unsigned char lead = static_cast<unsigned char>(text[i]);
    uint32_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
    bool ok = length > 0 && i + length <= text.size();
    for (uint32_t k = 1; ok && k < length; ++k) ok = (static_cast<unsigned char>(text[i + k]) >> 6) == 0x2;
    if (!ok) {
      invalid_utf8_at = i;
      code_point_bytes.clear();
      return;
    }
    i += length;
  }
  code_point_bytes.push_back(static_cast<uint32_t>(text.size()));
}

std::pair<int, int> SourceText::line_col(uint32_t offset) const {
  auto it = std::upper_bound(line_starts.begin(), line_starts.end(), offset);
  int line = static_cast<int>(it - line_starts.begin());
  return {line, static_cast<int>(offset - line_starts[line - 1]) + 1};
}

int SourceText::line_of(uint32_t offset) const {
  return static_cast<int>(std::upper_bound(line_starts.begin(), line_starts.end(), offset) - line_starts.begin());
}

size_t SourceText::code_point_index(uint32_t offset) const {
  if (code_point_bytes.empty()) return std::min<size_t>(offset, text.size());
  return static_cast<size_t>(std::lower_bound(code_point_bytes.begin(), code_point_bytes.end(), offset) -
                             code_point_bytes.begin());
}

std::string_view SourceText::line(int line_number) const {
  if (line_number < 1 || line_number > static_cast<int>(line_starts.size())) return {};
  uint32_t begin = line_starts[line_number - 1];
  uint32_t end = line_number < static_cast<int>(line_starts.size()) ? line_starts[line_number] : text.size();
  std::string_view view(text.data() + begin, end - begin);
  while (!view.empty() && (view.back() == '\n' || view.back() == '\r')) view.remove_suffix(1);
  return view;
}

Span make_span(const SourceText& source, uint32_t begin, uint32_t end) {
  begin = std::min<uint32_t>(begin, source.text.size());
  end = std::clamp<uint32_t>(end, begin, source.text.size());
  auto [line, col] = source.line_col(begin);
  return Span{&source, begin, end, line, col};
}

Span Span::to(const Span& other) const {
  if (!valid()) return other;
  if (!other.valid()) return *this;
  Span out = begin <= other.begin ? *this : other;
  out.end = std::max(end, other.end);
  return out;
}

std::string_view Span::text() const {
  if (!valid()) return {};
  return std::string_view(source->text).substr(begin, end - begin);
}

}  // namespace circuit::compiler
