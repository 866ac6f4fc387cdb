#include "server/live_compiler.h"

#include <algorithm>
#include <chrono>

#include "compiler/diagnostics/render.h"
#include "compiler/driver/compilation.h"
#include "compiler/resolve/program.h"
#include "server/http_message.h"

namespace circuit::server {
namespace fs = std::filesystem;

std::mutex& LiveCompiler::front_end_mutex() {
  static std::mutex mutex;
  return mutex;
}

LiveCompiler::LiveCompiler(const Workspace& workspace, std::string model_override)
    : workspace_(workspace),
      model_override_(std::move(model_override)),
      files_(compiler::SourceResolver::bounded(workspace.root(), compiler::default_search_path(),
                                               compiler::default_models_dir(), model_override_)),
      models_(files_) {}

CompileReport LiveCompiler::compile(const fs::path& file, std::string text) {
  const auto start = std::chrono::steady_clock::now();
  compiler::CompileOptions options;
  options.load.resolver = &files_;
  options.model_override = model_override_;
  options.models = &models_;
  CompileReport report;
  std::unique_ptr<compiler::Compilation> c;
  {
    auto lock = lock_front_end();
    try {
      c = compiler::check_text(file.string(), std::move(text), options);
    } catch (const std::exception& e) {
      throw ApiError(500, workspace_.relative_of(file) + ": the compiler failed: " + e.what());
    }
    // Rendered under the lock: the diagnostics point into sources the compilation owns.
    report.diagnostics = diagnostics_to_api(c->diagnostics.all(), workspace_, workspace_.relative_of(file));
  }
  report.errors = c->diagnostics.error_count();
  report.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return report;
}

std::string LiveCompiler::first_model(const std::vector<fs::path>& files) {
  if (!model_override_.empty()) return model_override_;
  for (const auto& file : files) {
    auto text = files_.read(file);
    if (!text) continue;
    compiler::CompileOptions options;
    options.load.resolver = &files_;
    options.models = &models_;
    auto lock = lock_front_end();
    try {
      auto c = compiler::check_text(file.string(), std::move(*text), options);
      if (c->model) return c->model->name;
    } catch (const std::exception&) {
      // A file the compiler cannot take names no model; the next one may.
    }
  }
  return {};
}

namespace {

// The compiler counts columns in bytes; browser editors count UTF-16 code units. The same
// 1-based column in those units, so a squiggle lands under the right characters of any text.
int utf16_column(const compiler::SourceText& source, int line, int byte_col) {
  const std::string_view text = source.line(line);
  const size_t bytes = static_cast<size_t>(std::max(byte_col - 1, 0));
  int units = 0;
  for (size_t i = 0; i < std::min(bytes, text.size()); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte: part of the previous character
    units += c >= 0xF0 ? 2 : 1;        // four-byte characters are surrogate pairs in UTF-16
  }
  return units + 1 + static_cast<int>(bytes > text.size() ? bytes - text.size() : 0);
}

}  // namespace

nlohmann::json diagnostics_to_api(const std::vector<compiler::Diagnostic>& diagnostics, const Workspace& workspace,
                                  const std::string& fallback_file) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& d : diagnostics) {
    // render_json is the one JSON form of a diagnostic (`circuit check --format json`); the API
    // names its columns as the web app's editor does.
    nlohmann::json j = compiler::render_json(d);
    nlohmann::json api = {{"file", fallback_file}, {"line", 1}, {"col", 1}, {"end_line", 1}, {"end_col", 1},
                          {"severity", j["severity"]}, {"code", j["code"]}, {"message", j["message"]},
                          {"hint", j.value("hint", "")}, {"notes", nlohmann::json::array()}};
    if (d.span.valid()) {
      const auto& source = *d.span.source;
      const auto [end_line, end_col] = source.line_col(d.span.end);
      api["file"] = workspace.relative_of(source.path);
      api["line"] = d.span.line;
      api["col"] = utf16_column(source, d.span.line, d.span.col);
      api["end_line"] = end_line;
      api["end_col"] = utf16_column(source, end_line, end_col);
    }
    for (const auto& note : d.notes) {
      nlohmann::json n = {{"message", note.message}};
      if (note.span.valid()) {
        n["file"] = workspace.relative_of(note.span.source->path);
        n["line"] = note.span.line;
        n["col"] = utf16_column(*note.span.source, note.span.line, note.span.col);
      }
      api["notes"].push_back(std::move(n));
    }
    out.push_back(std::move(api));
  }
  return out;
}

}  // namespace circuit::server
