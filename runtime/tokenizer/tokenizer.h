// Tokenizer: the libtorch-free byte-level BPE tokenizer (GPT-2, Llama 3, SmolLM2, Qwen2 style)
// of the tokenizer stage, read from a Hugging Face tokenizer.json or from GGUF metadata, giving
// the same ids as Hugging Face `tokenizers`.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace circuit::formats {
class GgufFile;
}

namespace circuit::tok {

struct TokenizerData;  // vocabulary, merges, added tokens, pipeline settings (tokenizer_data.h)

// An immutable tokenizer; cheap to copy (copies share the vocabulary and the word cache), and
// safe to use from several threads at once. Loading errors are formats::FormatError naming the
// file and the reason.
class Tokenizer {
 public:
  static Tokenizer from_json_file(const std::string& path);
  // `where` names the source in error messages (usually the file path).
  static Tokenizer from_json(const nlohmann::json& doc, const std::string& where);
  static Tokenizer from_json_text(std::string_view text, const std::string& where);
  // Reads tokenizer.ggml.* metadata (model "gpt2"; `pre` picks the pre-tokenizer).
  static Tokenizer from_gguf(const formats::GgufFile& gguf);

  // Token ids of `text` (UTF-8; invalid bytes are encoded as themselves, never rejected).
  // Added/special tokens written in the text are always recognised; add_special_tokens only
  // controls what the post-processor adds (BOS for Llama 3 style tokenizers).
  std::vector<int> encode(std::string_view text, bool add_special_tokens = true) const;
  // The display text of each token of encode(text, false): " Mary" splits into " M" + "ary".
  std::vector<std::string> pieces(std::string_view text) const;
  // Concatenated token bytes as UTF-8; invalid sequences become U+FFFD (as HF decode does).
  // Ids out of range are skipped.
  std::string decode(std::span<const int> ids) const;

  // Display text of one token (its bytes, with invalid UTF-8 replaced by U+FFFD); "" if the
  // id is out of range.
  std::string token_text(int id) const;
  // The vocabulary string as stored in the file ("ĠMary" for " Mary").
  std::string raw_token(int id) const;
  // The id of the token whose display text is exactly `token` (" Mary", "<|im_start|>").
  std::optional<int> token_id(std::string_view token) const;

  // One more than the largest id (vocabulary plus added tokens).
  int vocab_size() const;
  std::optional<int> bos_id() const;
  std::optional<int> eos_id() const;
  // Whether encode(text, true) puts bos_id() first.
  bool adds_bos() const;
  // Ids the post-processor adds around the text when add_special_tokens is true.
  const std::vector<int>& prefix_ids() const;
  const std::vector<int>& suffix_ids() const;
  bool is_special(int id) const;

  explicit Tokenizer(std::shared_ptr<const TokenizerData> data);

 private:
  std::shared_ptr<const TokenizerData> data_;
};

}  // namespace circuit::tok
