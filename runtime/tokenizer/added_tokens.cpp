// Added-token matching: a byte trie walked from each position finds the longest token
// starting there; the first position with a match wins (Aho-Corasick LeftmostLongest, as HF).
#include "runtime/tokenizer/added_tokens.h"

#include "runtime/tokenizer/unicode_tables.h"
#include "runtime/tokenizer/utf8.h"

namespace circuit::tok {
namespace {

bool is_word_char(char32_t cp) {
  const CharClass c = char_class(cp);
  return c == CharClass::Letter || c == CharClass::Number;
}

// The last character of text[0, end), decoded backwards.
std::optional<char32_t> char_before(std::string_view text, std::size_t end) {
  if (end == 0) return std::nullopt;
  std::size_t start = end - 1;
  while (start > 0 && end - start < 4 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  const Utf8Char c = next_utf8(text, start);
  if (start + c.len != end) return 0xFFFD;
  return c.cp;
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens) : tokens_(std::move(tokens)) {
  for (std::size_t t = 0; t < tokens_.size(); ++t) {
    if (tokens_[t].content.empty()) continue;
    int node = 0;
    for (unsigned char b : tokens_[t].content) {
      auto it = trie_[node].next.find(b);
      if (it == trie_[node].next.end()) {
        trie_.push_back(Node{});
        it = trie_[node].next.emplace(b, static_cast<int>(trie_.size() - 1)).first;
      }
      node = it->second;
    }
    if (trie_[node].token < 0) trie_[node].token = static_cast<int>(t);  // first one wins
  }
}

std::vector<Segment> AddedTokenMatcher::split(std::string_view text) const {
  std::vector<Segment> out;
  std::size_t done = 0;  // text before this is already in `out`
  std::size_t pos = 0;
  while (pos < text.size()) {
    // Longest token starting at pos.
    int node = 0, best = -1;
    std::size_t best_end = pos;
    for (std::size_t i = pos; i < text.size(); ++i) {
      const auto it = trie_[node].next.find(static_cast<unsigned char>(text[i]));
      if (it == trie_[node].next.end()) break;
      node = it->second;
      if (trie_[node].token >= 0) best = trie_[node].token, best_end = i + 1;
    }
    if (best < 0) {
      ++pos;
      continue;
    }
    const AddedToken& tok = tokens_[best];
    std::size_t start = pos, stop = best_end;
    if (tok.single_word) {
      const auto before = char_before(text, start);
      const bool word_before = before && is_word_char(*before);
      const bool word_after = stop < text.size() && is_word_char(next_utf8(text, stop).cp);
      if (word_before || word_after) {
        pos = best_end;  // the search goes on after the rejected match, as Aho-Corasick's does
        continue;
      }
    }
    if (tok.lstrip) {
      while (start > done) {
        const auto c = char_before(text, start);
        if (!c || !is_space(*c)) break;
        std::size_t len = 1;
        while (len < start - done && (static_cast<unsigned char>(text[start - len]) & 0xC0) == 0x80) ++len;
        start -= len;
      }
    }
    if (tok.rstrip) {
      while (stop < text.size()) {
        const Utf8Char c = next_utf8(text, stop);
        if (!c.valid || !is_space(c.cp)) break;
        stop += c.len;
      }
    }
    if (done < start) out.push_back({std::nullopt, done, start});
    out.push_back({tok.id, start, stop});
    done = pos = stop;
  }
  if (done < text.size()) out.push_back({std::nullopt, done, text.size()});
  return out;
}

}  // namespace circuit::tok
