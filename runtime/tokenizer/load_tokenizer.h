// Picks and loads the tokenizer of a resolved model (tokenizer stage): its tokenizer.json
// when it has one (exact HF behaviour), else the GGUF file's tokenizer.ggml.* metadata.
#pragma once

#include <string>

#include "runtime/formats/model_source.h"
#include "runtime/tokenizer/tokenizer.h"

namespace circuit::tok {

// Throws FormatError when the model has neither a tokenizer.json nor GGUF tokenizer metadata.
Tokenizer load_tokenizer(const formats::ModelSource& model);

// `path` is a tokenizer.json, a .gguf file, or a model folder holding a tokenizer.json.
Tokenizer load_tokenizer_file(const std::string& path);

}  // namespace circuit::tok
