// The hand-written pre-tokenizer regex matchers on cases where the regexes' backtracking and
// Unicode classes decide the split.
#include <gtest/gtest.h>

#include "runtime/tokenizer/split_patterns.h"

namespace circuit::tok {
namespace {

std::vector<std::string> split(SplitPattern p, std::string_view text) {
  std::vector<std::string> out;
  for (const auto& [b, e] : find_matches(p, text)) out.emplace_back(text.substr(b, e - b));
  return out;
}

using V = std::vector<std::string>;

TEST(SplitPatterns, Gpt2WordsNumbersPunctuation) {
  EXPECT_EQ(split(SplitPattern::Gpt2, "Hello world, it's 2024!"),
            (V{"Hello", " world", ",", " it", "'s", " 2024", "!"}));
}

TEST(SplitPatterns, Gpt2WhitespaceRunLeavesOneSpaceToTheNextWord) {
  EXPECT_EQ(split(SplitPattern::Gpt2, "a   b"), (V{"a", "  ", " b"}));
  EXPECT_EQ(split(SplitPattern::Gpt2, "a \n b"), (V{"a", " \n", " b"}));
  EXPECT_EQ(split(SplitPattern::Gpt2, "end   "), (V{"end", "   "}));
  EXPECT_EQ(split(SplitPattern::Gpt2, "a\tb"), (V{"a", "\t", "b"}));  // one char: \s+ fallback
}

TEST(SplitPatterns, Gpt2ContractionsAreCaseSensitive) {
  EXPECT_EQ(split(SplitPattern::Gpt2, "I'LL"), (V{"I", "'", "LL"}));
  EXPECT_EQ(split(SplitPattern::Gpt2, "we'll"), (V{"we", "'ll"}));
}

TEST(SplitPatterns, UnicodeClasses) {
  // Combining marks are neither letters nor numbers: they split Devanagari words.
  EXPECT_EQ(split(SplitPattern::Gpt2, "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d"),
            (V{"\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8", "\xe0\xa5\x8d"}));
  // NBSP is whitespace; U+00B2 (superscript two) is a number.
  EXPECT_EQ(split(SplitPattern::Gpt2, "x\xc2\xa0y\xc2\xb2"), (V{"x", "\xc2\xa0", "y", "\xc2\xb2"}));
}

TEST(SplitPatterns, Llama3) {
  EXPECT_EQ(split(SplitPattern::Llama3, "I'LL pay 1234567"), (V{"I", "'LL", " pay", " ", "123", "456", "7"}));
  EXPECT_EQ(split(SplitPattern::Llama3, "x\n\n  y"), (V{"x", "\n\n", " ", " y"}));
  EXPECT_EQ(split(SplitPattern::Llama3, "(hi)\n\nok"), (V{"(hi", ")\n\n", "ok"}));
  EXPECT_EQ(split(SplitPattern::Llama3, " \t\n \n  x"), (V{" \t\n \n", " ", " x"}));
  // [^\r\n\p{L}\p{N}]?\p{L}+ takes one leading non-letter, not a line break.
  EXPECT_EQ(split(SplitPattern::Llama3, "\tword\nword"), (V{"\tword", "\n", "word"}));
}

TEST(SplitPatterns, Qwen2SingleDigits) {
  EXPECT_EQ(split(SplitPattern::Qwen2, "x 123"), (V{"x", " ", "1", "2", "3"}));
}

TEST(SplitPatterns, InvalidUtf8NeverStopsTheSplit) {
  const std::string text = "a\xff\xfe b\xe2\x82";
  std::size_t covered = 0;
  for (const auto& [b, e] : find_matches(SplitPattern::Gpt2, text)) {
    EXPECT_EQ(b, covered);
    covered = e;
  }
  EXPECT_EQ(covered, text.size());
}

TEST(SplitPatterns, Digits) {
  const std::string text = "ab12c3";
  std::vector<std::pair<std::size_t, std::size_t>> want{{2, 3}, {3, 4}, {5, 6}};
  EXPECT_EQ(find_digits(text, true), want);
  want = {{2, 4}, {5, 6}};
  EXPECT_EQ(find_digits(text, false), want);
}

TEST(SplitPatterns, RecognisesRegexText) {
  for (SplitPattern p : {SplitPattern::Gpt2, SplitPattern::Llama3, SplitPattern::Qwen2})
    EXPECT_EQ(split_pattern_from_regex(split_pattern_regex(p)), p);
  EXPECT_FALSE(split_pattern_from_regex("\\w+"));
}

}  // namespace
}  // namespace circuit::tok
