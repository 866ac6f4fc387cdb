// TokenizerData: everything a Tokenizer is made of once read from tokenizer.json or GGUF
// (tokenizer stage): normalizer, added tokens, pre-tokenizer steps, BPE model, post-processor
// ids and decoder.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/tokenizer/added_tokens.h"
#include "runtime/tokenizer/bpe_model.h"
#include "runtime/tokenizer/split_patterns.h"

namespace circuit::tok {

// One pre-tokenizer of HF's list (a Sequence is flattened into several steps).
struct PreTokenizerStep {
  enum class Kind { Split, Digits, ByteLevel };
  Kind kind = Kind::ByteLevel;
  SplitPattern pattern = SplitPattern::Gpt2;  // Split; ByteLevel when use_regex
  bool remove_matches = false;                 // Split behavior "Removed" (else "Isolated")
  bool individual_digits = false;              // Digits
  bool add_prefix_space = false;               // ByteLevel
  bool use_regex = true;                       // ByteLevel
};

struct TokenizerData {
  bool nfc = false;  // normalizer NFC
  std::vector<AddedToken> added;
  AddedTokenMatcher raw_matcher;         // added tokens matched on the raw text
  AddedTokenMatcher normalized_matcher;  // added tokens matched after the normalizer
  std::vector<PreTokenizerStep> pre_tokenizer;
  std::unique_ptr<BpeModel> model;
  std::vector<int> prefix_ids, suffix_ids;  // post-processor, with add_special_tokens
  bool byte_level_decoder = true;           // else tokens are joined with spaces (HF's default)
  std::optional<int> bos_id, eos_id;
  std::unordered_map<int, const AddedToken*> added_by_id;
  std::unordered_map<std::string, int> added_by_content;
  int vocab_size = 0;

  // Builds the matchers and lookup maps from `added`, and vocab_size; call once filled in.
  void finish();
};

}  // namespace circuit::tok
