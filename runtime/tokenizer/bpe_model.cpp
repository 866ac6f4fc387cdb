// The BPE merge loop: start from one symbol per byte (or character), then repeatedly apply
// the lowest-ranked merge present, leftmost first, using a heap with lazy invalidation so long
// words stay O(n log n).
#include "runtime/tokenizer/bpe_model.h"

#include <queue>

#include "runtime/formats/format_error.h"
#include "runtime/tokenizer/byte_level.h"
#include "runtime/tokenizer/utf8.h"

namespace circuit::tok {
namespace {

constexpr std::size_t kCacheLimit = 200000;  // words; the cache is cleared when it fills
constexpr std::size_t kCacheWordLimit = 256;  // longer words are not worth caching

std::uint64_t pair_key(int a, int b) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
}

}  // namespace

BpeModel::BpeModel(std::unordered_map<std::string, int> vocab,
                   const std::vector<std::pair<std::string, std::string>>& merges, bool byte_level,
                   bool ignore_merges, std::optional<int> unk_id, const std::string& where)
    : vocab_(vocab.begin(), vocab.end()), byte_level_(byte_level), ignore_merges_(ignore_merges), unk_id_(unk_id) {
  int max_id = -1;
  for (const auto& [token, id] : vocab_) {
    if (id < 0) throw formats::FormatError(where, "negative id " + std::to_string(id) + " for token '" + token + "'");
    if (id > max_id) max_id = id;
  }
  if (max_id >= (1 << 24)) throw formats::FormatError(where, "vocabulary id " + std::to_string(max_id) + " is too large");
  id_to_token_.resize(static_cast<std::size_t>(max_id + 1));
  for (const auto& [token, id] : vocab_) id_to_token_[id] = token;
  merges_.reserve(merges.size());
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    const auto ia = vocab_.find(a), ib = vocab_.find(b), im = vocab_.find(a + b);
    if (ia == vocab_.end() || ib == vocab_.end() || im == vocab_.end()) {
      const std::string& missing = ia == vocab_.end() ? a : ib == vocab_.end() ? b : a + b;
      throw formats::FormatError(where, "merge " + std::to_string(rank) + " ('" + a + " " + b +
                                            "') uses '" + missing + "', which is not in the vocabulary");
    }
    // A repeated merge keeps its first (best) rank, as HF does.
    merges_.try_emplace(pair_key(ia->second, ib->second), static_cast<int>(rank), im->second);
  }
  for (unsigned b = 0; b < 256; ++b) {
    std::string key;
    if (byte_level_) {
      key = bytes_to_mapped(std::string(1, static_cast<char>(b)));
    } else {
      key = std::string(1, static_cast<char>(b));
    }
    const auto it = vocab_.find(key);
    byte_ids_[b] = it == vocab_.end() ? -1 : it->second;
  }
}

std::optional<int> BpeModel::id_of(std::string_view token) const {
  const auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::token_of(int id) const {
  if (id < 0 || id >= size()) return nullptr;
  return &id_to_token_[id];
}

void BpeModel::merge_symbols(std::vector<int>& symbols) const {
  const int n = static_cast<int>(symbols.size());
  if (n < 2) return;
  std::vector<int> prev(n), next(n);
  std::vector<bool> alive(n, true);
  for (int i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  struct Candidate {
    int rank, pos, left, right, merged;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
  auto push = [&](int pos) {
    if (pos < 0 || next[pos] < 0) return;
    const auto it = merges_.find(pair_key(symbols[pos], symbols[next[pos]]));
    if (it != merges_.end()) heap.push({it->second.first, pos, symbols[pos], symbols[next[pos]], it->second.second});
  };
  for (int i = 0; i + 1 < n; ++i) push(i);
  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    // Stale entries: the symbol was absorbed, or either side changed since the push.
    if (!alive[c.pos] || next[c.pos] < 0 || symbols[c.pos] != c.left || symbols[next[c.pos]] != c.right) continue;
    const int right = next[c.pos];
    symbols[c.pos] = c.merged;
    alive[right] = false;
    next[c.pos] = next[right];
    if (next[right] >= 0) prev[next[right]] = c.pos;
    push(prev[c.pos]);
    push(c.pos);
  }
  int w = 0;
  for (int i = 0; i >= 0; i = next[i]) symbols[w++] = symbols[i];
  symbols.resize(w);
}

void BpeModel::encode_word(std::string_view word, std::vector<int>& out) const {
  if (word.empty()) return;
  const bool cacheable = word.size() <= kCacheWordLimit;
  if (cacheable) {
    std::lock_guard lock(cache_mutex_);
    const auto it = cache_.find(word);
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int> symbols;
  auto whole = vocab_.end();
  if (ignore_merges_) whole = byte_level_ ? vocab_.find(bytes_to_mapped(word)) : vocab_.find(word);
  if (whole != vocab_.end()) {
    symbols.push_back(whole->second);
  } else if (byte_level_) {
    for (unsigned char b : word) {
      if (byte_ids_[b] >= 0) {
        symbols.push_back(byte_ids_[b]);
      } else if (unk_id_) {
        symbols.push_back(*unk_id_);
      }
    }
    merge_symbols(symbols);
  } else {
    for (std::size_t i = 0; i < word.size();) {
      const Utf8Char c = next_utf8(word, i);
      const auto it = vocab_.find(word.substr(i, c.len));
      if (it != vocab_.end()) {
        symbols.push_back(it->second);
      } else if (unk_id_) {
        symbols.push_back(*unk_id_);
      }
      i += c.len;
    }
    merge_symbols(symbols);
  }
  out.insert(out.end(), symbols.begin(), symbols.end());
  if (cacheable) {
    std::lock_guard lock(cache_mutex_);
    if (cache_.size() >= kCacheLimit) cache_.clear();
    cache_.emplace(std::string(word), std::move(symbols));
  }
}

}  // namespace circuit::tok
