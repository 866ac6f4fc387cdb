// BPE merging: rank order, leftmost ties, ignore_merges, and merges that cannot be built.
#include <gtest/gtest.h>

#include "runtime/formats/format_error.h"
#include "runtime/tokenizer/tokenizer.h"
#include "test_tokenizer_json.h"

namespace circuit::tok {
namespace {

using testing::byte_level_doc;

TEST(Bpe, AppliesMergesByRank) {
  // "a b" has a better rank than "b c", so "abc" -> "ab" + "c" although "bc" also exists.
  const auto t = Tokenizer::from_json(byte_level_doc({{"a", "b"}, {"b", "c"}}), "t.json");
  EXPECT_EQ(t.pieces("abc"), (std::vector<std::string>{"ab", "c"}));
  const auto u = Tokenizer::from_json(byte_level_doc({{"b", "c"}, {"a", "b"}}), "u.json");
  EXPECT_EQ(u.pieces("abc"), (std::vector<std::string>{"a", "bc"}));
}

TEST(Bpe, EqualRanksMergeLeftmostFirst) {
  const auto t = Tokenizer::from_json(byte_level_doc({{"a", "a"}}), "t.json");
  EXPECT_EQ(t.pieces("aaa"), (std::vector<std::string>{"aa", "a"}));
  EXPECT_EQ(t.pieces("aaaa"), (std::vector<std::string>{"aa", "aa"}));
}

TEST(Bpe, MergesBuildOnMerges) {
  const auto t = Tokenizer::from_json(byte_level_doc({{" ", "M"}, {"a", "r"}, {"ar", "y"}, {" M", "ary"}}), "t.json");
  EXPECT_EQ(t.pieces(" Mary"), (std::vector<std::string>{" Mary"}));
  EXPECT_EQ(t.pieces(" Marx"), (std::vector<std::string>{" M", "ar", "x"}));
  EXPECT_EQ(t.token_id(" Mary"), t.encode(" Mary", false).at(0));
}

TEST(Bpe, IgnoreMergesTakesWholeWordsFromTheVocabulary) {
  auto doc = byte_level_doc({{"b", "c"}, {"a", "b"}, {"ab", "c"}});
  // Without ignore_merges "abc" -> "a"+"bc" (no "a bc" merge); with it, the word is in the vocab.
  EXPECT_EQ(Tokenizer::from_json(doc, "t.json").pieces("abc"), (std::vector<std::string>{"a", "bc"}));
  doc["model"]["ignore_merges"] = true;
  EXPECT_EQ(Tokenizer::from_json(doc, "t.json").pieces("abc"), (std::vector<std::string>{"abc"}));
}

TEST(Bpe, MergeOfUnknownTokenIsAFormatError) {
  auto doc = byte_level_doc({});
  doc["model"]["merges"] = {"Ġ nosuchtoken"};
  try {
    Tokenizer::from_json(doc, "bad.json");
    FAIL() << "expected FormatError";
  } catch (const formats::FormatError& e) {
    EXPECT_EQ(e.where(), "bad.json");
    EXPECT_NE(std::string(e.what()).find("nosuchtoken"), std::string::npos) << e.what();
  }
}

TEST(Bpe, MergesAsPairsAndLongWords) {
  auto doc = byte_level_doc({{"x", "x"}, {"xx", "xx"}});
  doc["model"]["merges"] = nlohmann::json::array({nlohmann::json::array({"x", "x"}), nlohmann::json::array({"xx", "xx"})});
  const auto t = Tokenizer::from_json(doc, "t.json");
  const std::string word(10001, 'x');
  const auto ids = t.encode(word, false);
  EXPECT_EQ(ids.size(), 2501u);  // 2500 "xxxx" and one "x"
  EXPECT_EQ(t.decode(ids), word);
}

}  // namespace
}  // namespace circuit::tok
