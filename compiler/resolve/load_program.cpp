// Import resolution: parse each file once, follow `use` declarations depth first, and report
// missing files, cycles and the not-yet-available registry. Every file is read through the
// SourceResolver the options name (the server's is bounded to its workspace), else the CLI's.
#include <cstdlib>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "compiler/parse/parser.h"
#include "compiler/resolve/program.h"

namespace circuit::compiler {
namespace fs = std::filesystem;

namespace {

class Loader {
 public:
  Loader(const SourceResolver& files, Diagnostics& diagnostics, Program& program)
      : files_(files), diagnostics_(diagnostics), program_(program) {}

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
    // A file never uses itself: examples/ioi.circuit's `use "ioi.circuit"` means stdlib's.
    // Only when nothing else matches is that a cycle.
    bool found_self = false;
    for (const auto& candidate : files_.import_candidates(from.source->path, use.name)) {
      std::string key = SourceResolver::key_of(candidate);
      if (key == from.key) {
        found_self = true;
        continue;
      }
      if (cycle_at(key, use)) return nullptr;
      if (auto it = by_key_.find(key); it != by_key_.end()) return it->second;
      auto text = files_.read(candidate);
      if (!text) break;
      return load(candidate.string(), std::move(*text), key);
    }
    if (found_self) {
      cycle_at(from.key, use);
      return nullptr;
    }
    const SourceResolver::Refusal why = files_.import_not_found(from.source->path, use.name);
    diagnostics_.report(why.code, use.name_span, why.message, why.hint);
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

  const SourceResolver& files_;
  Diagnostics& diagnostics_;
  Program& program_;
  std::map<std::string, Module*> by_key_;
  std::vector<Module*> stack_;
};

// The resolver the options name, else the CLI's: unrestricted, along `search_path`.
class ResolverOf {
 public:
  explicit ResolverOf(const LoadOptions& options)
      : fallback_(SourceResolver::unrestricted(options.search_path, {})),
        resolver_(options.resolver ? *options.resolver : fallback_) {}
  const SourceResolver& get() const { return resolver_; }

 private:
  SourceResolver fallback_;
  const SourceResolver& resolver_;
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
  ResolverOf files(options);
  Loader loader(files.get(), diagnostics, program);
  loader.load(path, std::move(text), SourceResolver::key_of(path));
  return program;
}

Program load_program(const std::string& path, const LoadOptions& options, Diagnostics& diagnostics) {
  ResolverOf files(options);
  auto text = files.get().read(path);
  if (!text) {
    // Bounded, a file outside the roots reads as one that is not there: same words.
    if (files.get().restricted())
      throw std::runtime_error(path + ": cannot read the file (only files inside the workspace can be compiled here)");
    throw std::runtime_error(path + ": cannot read the file");
  }
  return load_program_text(path, std::move(*text), options, diagnostics);
}

}  // namespace circuit::compiler
