// Loading a model's shape and tokenizer for the checks (no weights are read).
#include "compiler/check/model_provider.h"

#include "runtime/formats/format_error.h"
#include "runtime/formats/gguf_reader.h"
#include "runtime/tokenizer/tokenizer.h"

namespace circuit::compiler {

std::string default_models_dir() { return formats::models_folder(CIRCUIT_SOURCE_DIR); }

const ModelInfo* FolderModelProvider::find(const std::string& name, std::string& error) {
  if (auto it = cache_.find(name); it != cache_.end()) return it->second.get();
  if (auto it = errors_.find(name); it != errors_.end()) {
    error = it->second;
    return nullptr;
  }
  try {
    formats::ModelSource source = files_.find_model(name);
    auto info = std::make_unique<ModelInfo>();
    info->name = name;
    info->config = source.config;
    std::shared_ptr<tok::Tokenizer> tokenizer;
    if (!source.tokenizer_path.empty()) {
      tokenizer = std::make_shared<tok::Tokenizer>(tok::Tokenizer::from_json_file(source.tokenizer_path));
    } else if (source.kind == formats::ModelKind::Gguf && !source.weights.empty()) {
      tokenizer = std::make_shared<tok::Tokenizer>(tok::Tokenizer::from_gguf(formats::GgufFile::open(source.weights[0])));
    }
    if (tokenizer) {
      info->pieces = [tokenizer](std::string_view text) { return tokenizer->pieces(text); };
      info->encode = [tokenizer](std::string_view text) { return tokenizer->encode(text, false); };
      info->token_text = [tokenizer](int id) { return tokenizer->token_text(id); };
      if (tokenizer->adds_bos() && tokenizer->bos_id()) info->bos_id = *tokenizer->bos_id();
    }
    if (info->bos_id < 0 && info->config.add_bos) info->bos_id = info->config.bos_token_id;
    const ModelInfo* raw = info.get();
    cache_[name] = std::move(info);
    return raw;
  } catch (const std::exception& e) {
    error = e.what();
    errors_[name] = error;
    return nullptr;
  }
}

}  // namespace circuit::compiler
