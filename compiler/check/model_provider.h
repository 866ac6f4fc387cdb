// The check stage's real ModelProvider: finds a model by name in the models folder (through
// the formats layer's resolve_model) and loads its shape and tokenizer, once per name.
#pragma once

#include <map>
#include <memory>

#include "compiler/check/model_info.h"

namespace circuit::compiler {

class FolderModelProvider : public ModelProvider {
 public:
  explicit FolderModelProvider(std::string models_dir) : models_dir_(std::move(models_dir)) {}
  const ModelInfo* find(const std::string& name, std::string& error) override;

 private:
  std::string models_dir_;
  std::map<std::string, std::unique_ptr<ModelInfo>> cache_;
  std::map<std::string, std::string> errors_;
};

// The models folder the CLI uses: $CIRCUIT_MODELS, else the source tree's models/.
std::string default_models_dir();

}  // namespace circuit::compiler
