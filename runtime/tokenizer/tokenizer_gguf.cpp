// Reading a tokenizer from GGUF metadata (tokenizer.ggml.*). Only the "gpt2" (byte-level BPE)
// model is supported; tokenizer.ggml.pre picks the pre-tokenizer the model was trained with,
// as llama.cpp does.
#include "runtime/formats/format_error.h"
#include "runtime/formats/gguf_reader.h"
#include "runtime/tokenizer/tokenizer.h"
#include "runtime/tokenizer/tokenizer_data.h"

namespace circuit::tok {
namespace {

using formats::FormatError;

// GGUF token types (llama.cpp's llama_token_type).
constexpr std::int64_t kTokenControl = 3;
constexpr std::int64_t kTokenUserDefined = 4;

// The pre-tokenizer steps of each tokenizer.ggml.pre value.
std::vector<PreTokenizerStep> pre_tokenizer_for(const std::string& pre, bool& nfc, const std::string& where) {
  PreTokenizerStep byte_level;  // ByteLevel with the GPT-2 regex
  byte_level.kind = PreTokenizerStep::Kind::ByteLevel;
  byte_level.add_prefix_space = false;
  byte_level.use_regex = true;
  PreTokenizerStep byte_level_plain = byte_level;  // ByteLevel after a Split
  byte_level_plain.use_regex = false;
  nfc = false;
  // "default" (no pre-tokenizer recorded): HF's GGUF converter uses plain ByteLevel.
  if (pre == "gpt-2" || pre == "gpt2" || pre == "default") return {byte_level};
  if (pre == "smollm" || pre == "starcoder") {
    // SmolLM2's tokenizer.json: Digits(individual_digits) then ByteLevel.
    PreTokenizerStep digits;
    digits.kind = PreTokenizerStep::Kind::Digits;
    digits.individual_digits = true;
    return {digits, byte_level};
  }
  PreTokenizerStep split;
  split.kind = PreTokenizerStep::Kind::Split;
  if (pre == "llama-bpe" || pre == "llama3") {
    split.pattern = SplitPattern::Llama3;
    return {split, byte_level_plain};
  }
  if (pre == "qwen2") {
    split.pattern = SplitPattern::Qwen2;
    nfc = true;  // Qwen2's tokenizer.json normalises to NFC
    return {split, byte_level_plain};
  }
  throw FormatError(where, "tokenizer.ggml.pre '" + pre +
                               "' is not supported (gpt-2, default, smollm, starcoder, llama-bpe, qwen2)");
}

std::optional<int> token_id_key(const formats::GgufFile& g, const std::string& key, int vocab_size) {
  const auto v = g.find_int(key);
  if (!v) return std::nullopt;
  if (*v < 0 || *v >= vocab_size) throw FormatError(g.path(), key + " = " + std::to_string(*v) + " is outside the vocabulary");
  return static_cast<int>(*v);
}

}  // namespace

Tokenizer Tokenizer::from_gguf(const formats::GgufFile& g) {
  const std::string& where = g.path();
  const std::string model = g.get_string("tokenizer.ggml.model");
  if (model != "gpt2") throw FormatError(where, "tokenizer.ggml.model '" + model + "' is not supported (only gpt2, byte-level BPE)");
  auto d = std::make_shared<TokenizerData>();
  d->pre_tokenizer = pre_tokenizer_for(g.find_string("tokenizer.ggml.pre").value_or("default"), d->nfc, where);

  const std::vector<std::string> tokens = g.get_string_array("tokenizer.ggml.tokens");
  if (tokens.empty()) throw FormatError(where, "tokenizer.ggml.tokens is empty");
  if (tokens.size() >= (1u << 24)) throw FormatError(where, "tokenizer.ggml.tokens is too long");
  std::vector<std::int64_t> types;
  if (g.has("tokenizer.ggml.token_type")) {
    types = g.get_int_array("tokenizer.ggml.token_type");
    if (types.size() != tokens.size())
      throw FormatError(where, "tokenizer.ggml.token_type has " + std::to_string(types.size()) + " entries for " +
                                   std::to_string(tokens.size()) + " tokens");
  }
  std::unordered_map<std::string, int> vocab;
  vocab.reserve(tokens.size());
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    vocab.emplace(tokens[i], static_cast<int>(i));  // a repeated string keeps its first id
    const std::int64_t type = types.empty() ? 1 : types[i];
    if (type == kTokenControl || type == kTokenUserDefined) {
      AddedToken a;
      a.id = static_cast<int>(i);
      a.content = tokens[i];
      a.special = type == kTokenControl;
      a.normalized = false;
      d->added.push_back(std::move(a));
    }
  }
  std::vector<std::pair<std::string, std::string>> merges;
  if (g.has("tokenizer.ggml.merges")) {
    const std::vector<std::string> lines = g.get_string_array("tokenizer.ggml.merges");
    merges.reserve(lines.size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const auto space = lines[i].find(' ');
      if (space == std::string::npos || lines[i].find(' ', space + 1) != std::string::npos)
        throw FormatError(where, "tokenizer.ggml.merges[" + std::to_string(i) + "] is not two tokens separated by one space");
      merges.emplace_back(lines[i].substr(0, space), lines[i].substr(space + 1));
    }
  }
  d->model = std::make_unique<BpeModel>(std::move(vocab), merges, true, false, std::nullopt, where);
  d->finish();
  const int n = static_cast<int>(tokens.size());
  d->bos_id = token_id_key(g, "tokenizer.ggml.bos_token_id", n);
  d->eos_id = token_id_key(g, "tokenizer.ggml.eos_token_id", n);
  if (g.find_bool("tokenizer.ggml.add_bos_token").value_or(false) && d->bos_id) d->prefix_ids.push_back(*d->bos_id);
  if (g.find_bool("tokenizer.ggml.add_eos_token").value_or(false) && d->eos_id) d->suffix_ids.push_back(*d->eos_id);
  return Tokenizer(std::move(d));
}

}  // namespace circuit::tok
