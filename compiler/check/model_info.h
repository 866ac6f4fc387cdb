// ModelInfo: what the check stage needs to know about the model a file runs on (its shape and
// a way to tokenize text), behind a small interface so the checker is tested without model
// files and never links libtorch. model_provider.h loads real ones from the models folder.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/formats/model_config.h"

namespace circuit::compiler {

struct ModelInfo {
  std::string name;  // as the file or --model named it
  formats::ModelConfig config;
  // The display text of each token of `text` (no BOS); empty function: no tokenizer known.
  std::function<std::vector<std::string>(std::string_view)> pieces;
  // Token ids of `text` (no BOS), for lowering; empty function: no tokenizer known.
  std::function<std::vector<int>(std::string_view)> encode;
  // The display text of one token id ("" out of range); empty function: no tokenizer known.
  std::function<std::string(int)> token_text;
  int bos_id = -1;  // prepended to every prompt when >= 0
};

// Finds models by name; `error` gets a one-line reason (with "did you mean") when it fails.
class ModelProvider {
 public:
  virtual ~ModelProvider() = default;
  virtual const ModelInfo* find(const std::string& name, std::string& error) = 0;
};

}  // namespace circuit::compiler
