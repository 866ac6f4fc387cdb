// The whole pipeline: added tokens, post-processor, decode, and errors for bad tokenizer.json.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>

#include "runtime/formats/format_error.h"
#include "runtime/tokenizer/tokenizer.h"
#include "test_tokenizer_json.h"

namespace circuit::tok {
namespace {

using testing::byte_level_doc;
using V = std::vector<std::string>;

TEST(Tokenizer, SpecialTokensAreMatchedBeforePreTokenization) {
  const auto t = Tokenizer::from_json(byte_level_doc({{" ", "a"}}, {"<|im_start|>", "<|im_start|>x"}), "t.json");
  const int start = *t.token_id("<|im_start|>");
  EXPECT_EQ(start, 257);
  EXPECT_TRUE(t.is_special(start));
  // An unfinished special token is ordinary text.
  EXPECT_EQ(t.pieces("<|im_start|> a<|im_start|"), (V{"<|im_start|>", " a", "<", "|", "i", "m", "_", "s", "t", "a", "r", "t", "|"}));
  const auto ids = t.encode("x<|im_start|> a", false);
  EXPECT_EQ(ids, (std::vector<int>{'x', start, 256}));
  // Leftmost, then longest.
  EXPECT_EQ(t.encode("<|im_start|>x", false), (std::vector<int>{258}));
  // add_special_tokens does not stop special-token text from being recognised.
  EXPECT_EQ(t.encode("<|im_start|>", true), (std::vector<int>{start}));
}

TEST(Tokenizer, LstripAndRstripSwallowWhitespace) {
  auto doc = byte_level_doc({}, {"<mask>"});
  doc["added_tokens"][0]["lstrip"] = true;
  doc["added_tokens"][0]["rstrip"] = true;
  const auto t = Tokenizer::from_json(doc, "t.json");
  EXPECT_EQ(t.encode("a  <mask>  b", false), (std::vector<int>{'a', 256, 'b'}));
}

TEST(Tokenizer, TemplateProcessingAddsBos) {
  auto doc = byte_level_doc({}, {"<|begin_of_text|>"});
  doc["post_processor"] = {
      {"type", "TemplateProcessing"},
      {"single", {{{"SpecialToken", {{"id", "<|begin_of_text|>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
      {"special_tokens", {{"<|begin_of_text|>", {{"id", "<|begin_of_text|>"}, {"ids", {256}}, {"tokens", {"<|begin_of_text|>"}}}}}}};
  const auto t = Tokenizer::from_json(doc, "t.json");
  EXPECT_TRUE(t.adds_bos());
  EXPECT_EQ(t.bos_id(), 256);
  EXPECT_EQ(t.encode("hi"), (std::vector<int>{256, 'h', 'i'}));
  EXPECT_EQ(t.encode("hi", false), (std::vector<int>{'h', 'i'}));
  EXPECT_FALSE(Tokenizer::from_json(byte_level_doc({}), "t.json").adds_bos());
}

TEST(Tokenizer, DecodeRoundTripsAndReplacesInvalidUtf8) {
  const auto t = Tokenizer::from_json(byte_level_doc({{"\xc3", "\xa9"}}, {"<|endoftext|>"}), "t.json");
  for (const std::string s : {"caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd", " \t\n\r\n x", "<|endoftext|>a", ""}) {
    const auto ids = t.encode(s, false);
    EXPECT_EQ(t.decode(ids), s);
  }
  // Invalid bytes are encoded as themselves; decode replaces each maximal invalid part once.
  const auto ids = t.encode("a\xff\xe2\x82z", false);
  EXPECT_EQ(ids, (std::vector<int>{'a', 0xff, 0xe2, 0x82, 'z'}));
  EXPECT_EQ(t.decode(ids), "a\xef\xbf\xbd\xef\xbf\xbdz");
  EXPECT_EQ(t.token_text(0xe2), "\xef\xbf\xbd");
  EXPECT_EQ(t.raw_token(' '), "\xc4\xa0");  // "Ġ"
  const int out_of_range[] = {-1, 100000};
  EXPECT_EQ(t.decode(out_of_range), "");
}

TEST(Tokenizer, NfcNormalizer) {
  auto doc = byte_level_doc({{"\xc3", "\xa9"}});
  EXPECT_EQ(Tokenizer::from_json(doc, "t.json").encode("e\xcc\x81", false).size(), 3u);
  doc["normalizer"] = {{"type", "NFC"}};
  EXPECT_EQ(Tokenizer::from_json(doc, "t.json").encode("e\xcc\x81", false), (std::vector<int>{256}));
}

TEST(Tokenizer, SequencePreTokenizerWithSplitAndDigits) {
  auto doc = byte_level_doc({{"1", "2"}});
  doc["pre_tokenizer"] = {{"type", "Sequence"},
                          {"pretokenizers",
                           {{{"type", "Digits"}, {"individual_digits", true}},
                            {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}}}};
  EXPECT_EQ(Tokenizer::from_json(doc, "t.json").encode("12", false), (std::vector<int>{'1', '2'}));
}

void expect_format_error(const nlohmann::json& doc, const std::string& needle) {
  try {
    Tokenizer::from_json(doc, "bad/tokenizer.json");
    FAIL() << "expected a FormatError mentioning " << needle;
  } catch (const formats::FormatError& e) {
    EXPECT_EQ(e.where(), "bad/tokenizer.json");
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(TokenizerErrors, BadDocuments) {
  auto doc = byte_level_doc({});
  doc.erase("model");
  expect_format_error(doc, "no 'model'");
  doc = byte_level_doc({});
  doc["model"]["type"] = "WordPiece";
  expect_format_error(doc, "WordPiece");
  doc = byte_level_doc({});
  doc["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "\\w+"}}}, {"behavior", "Isolated"}};
  expect_format_error(doc, "split regex");
  doc = byte_level_doc({});
  doc["normalizer"] = {{"type", "NFKC"}};
  expect_format_error(doc, "NFKC");
  doc = byte_level_doc({});
  doc["model"]["vocab"]["x"] = "seven";
  expect_format_error(doc, "not an integer");
  expect_format_error(nlohmann::json::array(), "not a JSON object");
}

// 2^32 read as an int is 0, and 2^32 + 'a' is 'a': each must be refused where it stands, never
// wrapped onto a real token.
TEST(TokenizerErrors, IdsOf2To32AndAboveAreRefusedNotWrapped) {
  const std::int64_t two32 = std::int64_t{1} << 32;
  auto doc = byte_level_doc({});
  doc["model"]["vocab"]["xyz"] = two32;
  expect_format_error(doc, "model.vocab['xyz'] = 4294967296 is not a token id (0 to 16777215)");
  doc = byte_level_doc({});
  doc["model"]["vocab"]["xyz"] = 18446744073709551615ull;
  expect_format_error(doc, "model.vocab['xyz'] = 18446744073709551615 is not a token id");
  doc = byte_level_doc({});
  doc["model"]["vocab"]["xyz"] = -1;
  expect_format_error(doc, "model.vocab['xyz'] = -1 is not a token id");
  doc = byte_level_doc({}, {"<s>"});
  doc["added_tokens"][0]["id"] = two32 + 'a';
  expect_format_error(doc, "added_tokens[0].id = 4294967393 is not a token id");
  doc = byte_level_doc({}, {"<s>"});
  doc["post_processor"] = {
      {"type", "TemplateProcessing"},
      {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
      {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {two32 + 256}}, {"tokens", {"<s>"}}}}}}};
  expect_format_error(doc, "post_processor.special_tokens['<s>'].ids = 4294967552 is not a token id");
  doc = byte_level_doc({});
  doc["post_processor"] = {{"type", "BertProcessing"}, {"cls", {"[CLS]", two32}}, {"sep", {"[SEP]", 1}}};
  expect_format_error(doc, "post_processor.cls[1] = 4294967296 is not a token id");
}

TEST(TokenizerErrors, FilesNameThemselves) {
  const auto dir = std::filesystem::temp_directory_path() / "circuit_tokenizer_test";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "tokenizer.json").string();
  std::ofstream(path) << "{ \"model\": ";
  try {
    Tokenizer::from_json_file(path);
    FAIL();
  } catch (const formats::FormatError& e) {
    EXPECT_EQ(std::string(e.what()), path + ": not valid JSON");
  }
  EXPECT_THROW(Tokenizer::from_json_file((dir / "missing.json").string()), formats::FormatError);
  std::ofstream(path) << byte_level_doc({}).dump();
  std::ofstream((dir / "tokenizer_config.json").string()) << R"({"bos_token": {"content": "!"}, "eos_token": "?"})";
  const auto t = Tokenizer::from_json_file(path);
  EXPECT_EQ(t.bos_id(), '!');
  EXPECT_EQ(t.eos_id(), '?');
  EXPECT_FALSE(t.adds_bos());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace circuit::tok
