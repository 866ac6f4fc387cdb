// BpeModel: the vocabulary and ranked merges of a BPE tokenizer and the merge loop that turns
// one pre-tokenized word into ids (tokenizer stage). Results are cached per word.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace circuit::tok {

// Hashes std::string keys so that lookups by string_view need no temporary string.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

class BpeModel {
 public:
  // `where` names the source in errors. Merges are pairs of vocabulary strings in rank order;
  // both halves and their concatenation must be in the vocabulary.
  BpeModel(std::unordered_map<std::string, int> vocab,
           const std::vector<std::pair<std::string, std::string>>& merges, bool byte_level,
           bool ignore_merges, std::optional<int> unk_id, const std::string& where);

  // Ids of one word (raw bytes; byte-level models map them first). Characters missing from
  // the vocabulary become unk, or are dropped when there is none (as HF does).
  void encode_word(std::string_view word, std::vector<int>& out) const;

  std::optional<int> id_of(std::string_view token) const;
  // The vocabulary string of id, or nullptr.
  const std::string* token_of(int id) const;
  int size() const { return static_cast<int>(id_to_token_.size()); }
  bool byte_level() const { return byte_level_; }

 private:
  void merge_symbols(std::vector<int>& symbols) const;

  StringMap<int> vocab_;
  std::vector<std::string> id_to_token_;
  // (left id << 32 | right id) -> (rank, merged id)
  std::unordered_map<std::uint64_t, std::pair<int, int>> merges_;
  std::array<int, 256> byte_ids_{};  // id of each byte's map character, -1 if none
  bool byte_level_;
  bool ignore_merges_;
  std::optional<int> unk_id_;

  mutable std::mutex cache_mutex_;
  mutable StringMap<std::vector<int>> cache_;
};

}  // namespace circuit::tok
