// The check stage's real ModelProvider: finds a model by name through a SourceResolver (the
// models folder, or a folder or .gguf path the resolver allows) and loads its shape and
// tokenizer, once per name.
#pragma once

#include <map>
#include <memory>

#include "compiler/check/model_info.h"
#include "compiler/resolve/source_resolver.h"

namespace circuit::compiler {

class FolderModelProvider : public ModelProvider {
 public:
  // The CLI's: any model on the disk, short names in `models_dir`.
  explicit FolderModelProvider(std::string models_dir)
      : files_(SourceResolver::unrestricted({}, std::move(models_dir))) {}
  // Models only where `files` allows (the server's bounded resolver).
  explicit FolderModelProvider(SourceResolver files) : files_(std::move(files)) {}
  const ModelInfo* find(const std::string& name, std::string& error) override;

 private:
  SourceResolver files_;
  std::map<std::string, std::unique_ptr<ModelInfo>> cache_;
  std::map<std::string, std::string> errors_;
};

// The models folder the CLI uses: $CIRCUIT_MODELS, else the source tree's models/.
std::string default_models_dir();

}  // namespace circuit::compiler
