// Tokenizer selection for a model: tokenizer.json first, GGUF metadata second.
#include "runtime/tokenizer/load_tokenizer.h"

#include <filesystem>

#include "runtime/formats/format_error.h"
#include "runtime/formats/gguf_reader.h"

namespace circuit::tok {

Tokenizer load_tokenizer(const formats::ModelSource& model) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!model.tokenizer_path.empty() && fs::is_regular_file(model.tokenizer_path, ec))
    return Tokenizer::from_json_file(model.tokenizer_path);
  if (model.kind == formats::ModelKind::Gguf && !model.weights.empty())
    return Tokenizer::from_gguf(formats::GgufFile::open(model.weights.front()));
  throw formats::FormatError(model.dir, "model '" + model.name + "' has no tokenizer.json");
}

Tokenizer load_tokenizer_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    const fs::path json = fs::path(path) / "tokenizer.json";
    if (!fs::is_regular_file(json, ec)) throw formats::FormatError(path, "folder has no tokenizer.json");
    return Tokenizer::from_json_file(json.string());
  }
  if (fs::path(path).extension() == ".gguf") return Tokenizer::from_gguf(formats::GgufFile::open(path));
  return Tokenizer::from_json_file(path);
}

}  // namespace circuit::tok
