// AddedTokens: the tokens a tokenizer matches in the raw text before pre-tokenization
// (<|im_start|>, <|endoftext|>, ...), with HF's leftmost-longest matching and its
// lstrip / rstrip / single_word options (tokenizer stage).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace circuit::tok {

struct AddedToken {
  int id = 0;
  std::string content;
  bool special = false;
  bool normalized = false;  // matched after the normalizer (else on the raw text)
  bool lstrip = false;      // swallows whitespace on its left
  bool rstrip = false;      // swallows whitespace on its right
  bool single_word = false; // only matches between word boundaries
};

// One piece of the text: an added token's id, or a stretch of text to pre-tokenize.
struct Segment {
  std::optional<int> id;
  std::size_t begin, end;  // byte range in the text
};

class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  explicit AddedTokenMatcher(std::vector<AddedToken> tokens);

  bool empty() const { return tokens_.empty(); }
  // Splits `text` at the tokens' occurrences (leftmost, then longest).
  std::vector<Segment> split(std::string_view text) const;

 private:
  struct Node {
    std::map<unsigned char, int> next;
    int token = -1;  // index into tokens_ of the token ending here
  };
  std::vector<AddedToken> tokens_;
  std::vector<Node> trie_{Node{}};
};

}  // namespace circuit::tok
