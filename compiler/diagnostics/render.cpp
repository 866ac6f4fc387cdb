// Text and JSON forms of diagnostics.
#include "compiler/diagnostics/render.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace circuit::compiler {
namespace {

std::string location(const Span& span) {
  if (!span.valid()) return "<unknown>";
  return span.source->path + ":" + std::to_string(span.line) + ":" + std::to_string(span.col);
}

// The source line and a caret run under the span (clipped to the first line of the span).
void append_excerpt(std::string& out, const Span& span) {
  if (!span.valid()) return;
  std::string_view line = span.source->line(span.line);
  std::string number = std::to_string(span.line);
  std::string gutter(number.size(), ' ');
  out += " " + gutter + " |\n";
  out += " " + number + " | ";
  out += line;
  out += "\n " + gutter + " | ";
  size_t start = static_cast<size_t>(span.col - 1);
  size_t width = std::max<size_t>(1, span.end - span.begin);
  if (start > line.size()) start = line.size();
  width = std::min(width, std::max<size_t>(1, line.size() - start));
  // One column per character: UTF-8 continuation bytes take no column.
  auto columns = [&](size_t from, size_t to) {
    size_t n = 0;
    for (size_t i = from; i < to && i < line.size(); ++i) n += (static_cast<unsigned char>(line[i]) & 0xC0) != 0x80;
    return n;
  };
  for (size_t i = 0; i < start; ++i)
    if ((static_cast<unsigned char>(line[i]) & 0xC0) != 0x80) out += line[i] == '\t' ? '\t' : ' ';
  out += std::string(std::max<size_t>(1, columns(start, start + width)), '^');
  out += "\n";
}

}  // namespace

std::string render_text(const Diagnostic& d) {
  std::string out = location(d.span) + ": ";
  out += d.severity == Severity::Error ? "error" : "warning";
  out += "[" + d.code + "]: " + d.message + "\n";
  append_excerpt(out, d.span);
  if (!d.hint.empty()) out += "  hint: " + d.hint + "\n";
  for (const auto& note : d.notes) {
    out += "  note: ";
    if (note.span.valid()) out += location(note.span) + ": ";
    out += note.message + "\n";
  }
  return out;
}

std::string render_text(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) out += render_text(d);
  return out;
}

nlohmann::json render_json(const Diagnostic& d) {
  nlohmann::json j;
  j["code"] = d.code;
  j["severity"] = d.severity == Severity::Error ? "error" : "warning";
  j["message"] = d.message;
  if (d.span.valid()) {
    auto [end_line, end_col] = d.span.source->line_col(d.span.end);
    j["file"] = d.span.source->path;
    j["line"] = d.span.line;
    j["column"] = d.span.col;
    j["end_line"] = end_line;
    j["end_column"] = end_col;
  }
  if (!d.hint.empty()) j["hint"] = d.hint;
  if (!d.notes.empty()) {
    j["notes"] = nlohmann::json::array();
    for (const auto& note : d.notes) {
      nlohmann::json n{{"message", note.message}};
      if (note.span.valid()) {
        n["file"] = note.span.source->path;
        n["line"] = note.span.line;
        n["column"] = note.span.col;
      }
      j["notes"].push_back(n);
    }
  }
  return j;
}

nlohmann::json render_json(const std::vector<Diagnostic>& diagnostics) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& d : diagnostics) out.push_back(render_json(d));
  return out;
}

}  // namespace circuit::compiler
