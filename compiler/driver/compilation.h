// The front end's driver: load (parse + imports) -> resolve names -> check types -> check
// against the model, collecting every diagnostic. What the CLI, tests, fuzzer and server call.
#pragma once

#include <memory>

#include "compiler/check/checker.h"
#include "compiler/check/model_info.h"

namespace circuit::compiler {

struct CompileOptions {
  LoadOptions load;
  std::string model_override;          // --model; wins over the file's `model`
  ModelProvider* models = nullptr;     // null: no shape or tokenizer checks
};

struct Compilation {
  Program program;
  Resolution resolution;
  TypeTable types;
  const ModelInfo* model = nullptr;  // the model the checks used; null when none
  Diagnostics diagnostics;
};

std::unique_ptr<Compilation> check_file(const std::string& path, const CompileOptions& options);
std::unique_ptr<Compilation> check_text(const std::string& path, std::string text, const CompileOptions& options);

}  // namespace circuit::compiler
