// Hand-written matchers for the pre-tokenizer regexes that byte-level BPE tokenizers use
// (tokenizer stage). std::regex has neither \p{L} nor lookahead, so each known regex is
// recognised by its exact text and matched by code that follows Oniguruma's leftmost-first,
// backtracking semantics.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace circuit::tok {

enum class SplitPattern {
  Gpt2,    // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  Llama3,  // (?i:'s|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|...
  Qwen2,   // as Llama3 with \p{N} (single digits)
};

// The regex text of each pattern as it appears in tokenizer.json.
std::string_view split_pattern_regex(SplitPattern p);
// The pattern whose regex is exactly `regex` (also accepts llama.cpp's GPT-2 variant).
std::optional<SplitPattern> split_pattern_from_regex(std::string_view regex);

// Byte ranges [begin, end) of the successive non-overlapping matches of `p` in `text`.
std::vector<std::pair<std::size_t, std::size_t>> find_matches(SplitPattern p, std::string_view text);

// Ranges of the characters of `text` that are \p{N}: each on its own when `individual`,
// else maximal runs.
std::vector<std::pair<std::size_t, std::size_t>> find_digits(std::string_view text, bool individual);

}  // namespace circuit::tok
