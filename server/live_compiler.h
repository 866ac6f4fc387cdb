// LiveCompiler: compiles a .circuit file's text as typed (not saved) against the served model
// and returns its diagnostics in the API's form, in milliseconds, for the editor's squiggles.
// It keeps the models' shapes and tokenizers loaded between requests, and serializes every use
// of the compiler front end in the process (a run's compile takes the same lock): the ANTLR 4.9
// runtime's shared parser caches are not safe to fill from two threads. Everything the compiler
// reads for it (imports, stdlib, models) goes through one bounded SourceResolver: the workspace
// and the library roots only. Part of the server layer.
#pragma once

#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compiler/check/model_provider.h"
#include "compiler/diagnostics/diagnostic.h"
#include "server/workspace.h"

namespace circuit::server {

struct CompileReport {
  nlohmann::json diagnostics;  // [Diagnostic], as docs/server-api.md spells them
  int errors = 0;
  double ms = 0;
};

class LiveCompiler {
 public:
  // `model_override`: --model, which wins over each file's `model` (empty: the file's own).
  LiveCompiler(const Workspace& workspace, std::string model_override);

  // Compiles `text` as if it were the workspace file `file` (absolute; its imports resolve from
  // its folder). Compiler failures that are not the text's fault are ApiError 500.
  CompileReport compile(const std::filesystem::path& file, std::string text);

  // The model the first of `files` that names one runs on ("" when none does): what the server
  // loads at start when no --model is given.
  std::string first_model(const std::vector<std::filesystem::path>& files);

  // The resolver every compile on the server's behalf uses (the run worker's too).
  const compiler::SourceResolver& files() const { return files_; }

  // Held by anyone else who runs the compiler front end in this process (the run worker).
  static std::unique_lock<std::mutex> lock_front_end() { return std::unique_lock(front_end_mutex()); }
  static std::mutex& front_end_mutex();

 private:
  const Workspace& workspace_;
  std::string model_override_;
  compiler::SourceResolver files_;
  compiler::FolderModelProvider models_;
};

// Diagnostics in the API's form: 1-based line/col, exclusive end_line/end_col, file names
// workspace-relative when they lie in it.
nlohmann::json diagnostics_to_api(const std::vector<compiler::Diagnostic>& diagnostics, const Workspace& workspace,
                                  const std::string& fallback_file);

}  // namespace circuit::server
