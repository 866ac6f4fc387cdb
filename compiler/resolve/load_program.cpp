// Import resolution: parse each file once, follow `use` declarations depth first, and report
// missing files, cycles and the not-yet-available registry.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "compiler/parse/parser.h"
#include "compiler/resolve/program.h"

namespace circuit::compiler {
namespace fs = std::filesystem;

namespace {

std::optional<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string canonical_key(const fs::path& path) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(path, ec);
  return ec ? path.lexically_normal().string() : canonical.string();
}

class Loader {
 public:
  Loader(const LoadOptions& options, Diagnostics& diagnostics, Program& program)
      : options_(options), diagnostics_(diagnostics), program_(program) {}

  Module* load(const std::string& display_path, std::string text, const std::string& key) {
    auto module = std::make_unique<Module>();
    module->key = key;
    module->source = std::make_unique<SourceText>(display_path, std::move(text));
    Module* raw = module.get();
    program_.modules.push_back(std::move(module));
    by_key_[key] = raw;
    raw->file = parse_source(*raw->source, diagnostics_);
    stack_.push_back(raw);
    for (const auto& decl : raw->file.decls) {
      if (decl.kind == ast::DeclKind::UseRegistry) {
        std::string what = "'" + decl.name + "'" + (decl.version.empty() ? "" : " version " + decl.version);
        diagnostics_.report("E022", decl.span, "cannot use " + what + ": the circuit registry is not available yet",
                            "copy the circuit's file next to this one and write use \"FILE.circuit\"");
        raw->imports.push_back(nullptr);
      } else if (decl.kind == ast::DeclKind::UseFile) {
        raw->imports.push_back(import(*raw, decl));
      }
    }
    stack_.pop_back();
    return raw;
  }

 private:
  Module* import(const Module& from, const ast::Decl& use) {
    std::vector<fs::path> candidates;
    fs::path wanted(use.name);
    if (wanted.is_absolute()) {
      candidates.push_back(wanted);
    } else {
      candidates.push_back(fs::path(from.source->path).parent_path() / wanted);
      for (const auto& dir : options_.search_path) candidates.push_back(fs::path(dir) / wanted);
    }
    // A file never uses itself: examples/ioi.circuit's `use "ioi.circuit"` means stdlib's.
    // Only when nothing else matches is that a cycle.
    bool found_self = false;
    for (const auto& candidate : candidates) {
      std::error_code ec;
      if (!fs::is_regular_file(candidate, ec)) continue;
      std::string key = canonical_key(candidate);
      if (key == from.key) {
        found_self = true;
        continue;
      }
      if (cycle_at(key, use)) return nullptr;
      if (auto it = by_key_.find(key); it != by_key_.end()) return it->second;
      auto text = read_file(candidate);
      if (!text) break;
      return load(candidate.lexically_normal().string(), std::move(*text), key);
    }
    if (found_self) {
      cycle_at(from.key, use);
      return nullptr;
    }
    std::string searched = fs::path(from.source->path).parent_path().string();
    if (searched.empty()) searched = ".";
    for (const auto& dir : options_.search_path) searched += ", " + dir;
    diagnostics_.report("E020", use.name_span, "cannot find '" + use.name + "'", "searched " + searched);
    return nullptr;
  }

  // Reports E021 when `key` is a file being loaded (an ancestor of the current one).
  bool cycle_at(const std::string& key, const ast::Decl& use) {
    {
      for (size_t i = 0; i < stack_.size(); ++i) {
        if (stack_[i]->key != key) continue;
        std::string cycle;
        for (size_t j = i; j < stack_.size(); ++j) cycle += fs::path(stack_[j]->source->path).filename().string() + " -> ";
        cycle += fs::path(stack_[i]->source->path).filename().string();
        diagnostics_.report("E021", use.name_span, "import cycle: " + cycle,
                            "move what both files need into a third file that both use");
        return true;
      }
    }
    return false;
  }

  const LoadOptions& options_;
  Diagnostics& diagnostics_;
  Program& program_;
  std::map<std::string, Module*> by_key_;
  std::vector<Module*> stack_;
};

}  // namespace

std::vector<std::string> default_search_path() {
  const char* env = std::getenv("CIRCUIT_STDLIB");
  if (env != nullptr && *env != '\0') return {env};
  return {std::string(CIRCUIT_SOURCE_DIR) + "/stdlib"};
}

Program load_program_text(const std::string& path, std::string text, const LoadOptions& options,
                          Diagnostics& diagnostics) {
  Program program;
  Loader loader(options, diagnostics, program);
  loader.load(path, std::move(text), canonical_key(path));
  return program;
}

Program load_program(const std::string& path, const LoadOptions& options, Diagnostics& diagnostics) {
  auto text = read_file(path);
  if (!text || fs::is_directory(path)) throw std::runtime_error(path + ": cannot read the file");
  return load_program_text(path, std::move(*text), options, diagnostics);
}

}  // namespace circuit::compiler
