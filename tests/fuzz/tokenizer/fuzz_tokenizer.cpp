// Fuzz target for the tokenizer. The first byte picks the mode:
//   0: the rest is a tokenizer.json; if it loads, encode and decode a fixed text with it;
//   1: the rest is a GGUF file; if its tokenizer metadata loads, encode and decode with it;
//   2: the rest is text for fixed GPT-2 and Llama 3 style tokenizers, which must decode
//      back to the same bytes (invalid UTF-8 replaced) where the pipeline keeps every byte.
// Bad input must end in FormatError; any other exception or crash is a finding.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "runtime/formats/format_error.h"
#include "runtime/formats/gguf_reader.h"
#include "runtime/tokenizer/tokenizer.h"
#include "runtime/tokenizer/utf8.h"
#include "tests/cpp/tokenizer/test_tokenizer_json.h"

namespace {

using circuit::tok::Tokenizer;

const std::string kSample = "Hello <|im_start|> w\xc3\xb6rld 12345\n\t\xf0\x9f\x91\x8d 's \xff";

void exercise(const Tokenizer& t, std::string_view text) {
  const auto ids = t.encode(text, true);
  for (int id : ids) {
    if (id < 0 || id >= t.vocab_size()) std::abort();  // encode produced an id decode cannot read
  }
  (void)t.decode(ids);
  (void)t.pieces(text.substr(0, 64));
}

const Tokenizer& gpt2_style() {
  static const Tokenizer t = Tokenizer::from_json(
      circuit::tok::testing::byte_level_doc({{" ", "t"}, {"h", "e"}, {" t", "he"}, {"\xc3", "\xa9"}, {"1", "2"}},
                                            {"<|endoftext|>"}),
      "gpt2-style");
  return t;
}

const Tokenizer& llama3_style() {
  static const Tokenizer t = [] {
    auto doc = circuit::tok::testing::byte_level_doc({{" ", "t"}, {"h", "e"}, {" t", "he"}}, {"<|im_start|>", "<mask>"});
    doc["normalizer"] = {{"type", "NFC"}};
    doc["added_tokens"][1]["lstrip"] = true;
    doc["added_tokens"][1]["rstrip"] = true;
    doc["model"]["ignore_merges"] = true;
    doc["pre_tokenizer"] = {
        {"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"},
           {"pattern", {{"Regex", R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}}},
           {"behavior", "Isolated"}},
          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}};
    return Tokenizer::from_json(doc, "llama3-style");
  }();
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 3) {
      case 0:
        exercise(Tokenizer::from_json_text(rest, "fuzz.json"), kSample);
        break;
      case 1: {
        const auto gguf = circuit::formats::GgufFile::parse(std::span<const uint8_t>(data + 1, size - 1), "fuzz.gguf");
        exercise(Tokenizer::from_gguf(gguf), kSample);
        break;
      }
      case 2: {
        const Tokenizer& g = gpt2_style();
        if (g.decode(g.encode(rest, false)) != circuit::tok::to_valid_utf8(rest)) std::abort();
        exercise(llama3_style(), rest);
        break;
      }
    }
  } catch (const circuit::formats::FormatError&) {
    // Bad input, cleanly rejected.
  }
  return 0;
}
