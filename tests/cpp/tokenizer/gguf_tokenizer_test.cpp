// Tokenizers read from GGUF metadata: pre-tokenizer choice by tokenizer.ggml.pre, control
// tokens, BOS, and errors. The GGUF files are written in memory by a tiny writer.
#include <gtest/gtest.h>

#include <cstring>

#include "runtime/formats/format_error.h"
#include "runtime/formats/gguf_reader.h"
#include "runtime/tokenizer/byte_level.h"
#include "runtime/tokenizer/tokenizer.h"

namespace circuit::tok {
namespace {

// Writes GGUF v3 key/values (no tensors).
class GgufWriter {
 public:
  void str(const std::string& key, const std::string& v) { head(key, 8), put_str(v), ++n_; }
  void u32(const std::string& key, uint32_t v) { head(key, 4), put(v), ++n_; }
  void u64(const std::string& key, uint64_t v) { head(key, 10), put(v), ++n_; }
  void boolean(const std::string& key, bool v) { head(key, 7), kv_.push_back(v ? 1 : 0), ++n_; }
  void strs(const std::string& key, const std::vector<std::string>& v) {
    head(key, 9), put(uint32_t{8}), put(uint64_t{v.size()});
    for (const auto& s : v) put_str(s);
    ++n_;
  }
  void i32s(const std::string& key, const std::vector<int32_t>& v) {
    head(key, 9), put(uint32_t{5}), put(uint64_t{v.size()});
    for (int32_t x : v) put(x);
    ++n_;
  }
  std::vector<uint8_t> bytes() const {
    std::vector<uint8_t> out{'G', 'G', 'U', 'F'};
    auto append = [&](auto v) {
      const auto* p = reinterpret_cast<const uint8_t*>(&v);
      out.insert(out.end(), p, p + sizeof(v));
    };
    append(uint32_t{3}), append(uint64_t{0}), append(uint64_t{n_});
    out.insert(out.end(), kv_.begin(), kv_.end());
    while (out.size() % 32) out.push_back(0);
    return out;
  }

 private:
  template <typename T>
  void put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    kv_.insert(kv_.end(), p, p + sizeof(v));
  }
  void put_str(const std::string& s) {
    put(uint64_t{s.size()});
    kv_.insert(kv_.end(), s.begin(), s.end());
  }
  void head(const std::string& key, uint32_t type) { put_str(key), put(type); }
  std::vector<uint8_t> kv_;
  uint64_t n_ = 0;
};

// Control token 0, the 256 byte tokens (ids 1..256), then merges "1 2" and " t".
GgufWriter small_vocab(const std::string& pre) {
  GgufWriter w;
  std::vector<std::string> tokens{"<|endoftext|>"};
  std::vector<int32_t> types{3};
  for (int b = 0; b < 256; ++b) tokens.push_back(bytes_to_mapped(std::string(1, static_cast<char>(b)))), types.push_back(1);
  tokens.push_back("12"), types.push_back(1);
  tokens.push_back(bytes_to_mapped(" t")), types.push_back(1);
  w.str("tokenizer.ggml.model", "gpt2");
  w.str("tokenizer.ggml.pre", pre);
  w.strs("tokenizer.ggml.tokens", tokens);
  w.i32s("tokenizer.ggml.token_type", types);
  w.strs("tokenizer.ggml.merges", {"1 2", bytes_to_mapped(" ") + " t"});
  w.u32("tokenizer.ggml.bos_token_id", 0);
  return w;
}

Tokenizer load(const GgufWriter& w, std::vector<uint8_t>& storage) {
  storage = w.bytes();
  return Tokenizer::from_gguf(formats::GgufFile::parse(storage, "test.gguf"));
}

TEST(GgufTokenizer, PreTokenizerFollowsTokenizerGgmlPre) {
  std::vector<uint8_t> a, b;
  // gpt-2 keeps "12" whole and merges it; smollm splits digits first.
  EXPECT_EQ(load(small_vocab("gpt-2"), a).encode("12 to", false), (std::vector<int>{257, 258, 'o' + 1}));
  EXPECT_EQ(load(small_vocab("smollm"), b).encode("12 to", false), (std::vector<int>{'1' + 1, '2' + 1, 258, 'o' + 1}));
}

TEST(GgufTokenizer, ControlTokensAndBos) {
  std::vector<uint8_t> storage;
  GgufWriter w = small_vocab("default");
  w.boolean("tokenizer.ggml.add_bos_token", true);
  const Tokenizer t = load(w, storage);
  EXPECT_TRUE(t.adds_bos());
  EXPECT_EQ(t.encode("a<|endoftext|>"), (std::vector<int>{0, 'a' + 1, 0}));
  EXPECT_TRUE(t.is_special(0));
  EXPECT_EQ(t.vocab_size(), 259);
}

TEST(GgufTokenizer, Errors) {
  std::vector<uint8_t> storage;
  EXPECT_THROW(load(small_vocab("some-new-model"), storage), formats::FormatError);
  GgufWriter llama;
  llama.str("tokenizer.ggml.model", "llama");
  try {
    load(llama, storage);
    FAIL();
  } catch (const formats::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("test.gguf: tokenizer.ggml.model 'llama'"), std::string::npos) << e.what();
  }
  GgufWriter bad = small_vocab("gpt-2");
  bad.u32("tokenizer.ggml.eos_token_id", 9999);
  EXPECT_THROW(load(bad, storage), formats::FormatError);
}

// A uint64 id of 2^32 (which an int would read as 0, a real token here) is refused.
TEST(GgufTokenizer, IdOf2To32IsRefusedNotWrapped) {
  std::vector<uint8_t> storage;
  GgufWriter w = small_vocab("gpt-2");
  w.u64("tokenizer.ggml.eos_token_id", uint64_t{1} << 32);
  try {
    load(w, storage);
    FAIL();
  } catch (const formats::FormatError& e) {
    EXPECT_STREQ(e.what(), "test.gguf: tokenizer.ggml.eos_token_id = 4294967296 is outside the vocabulary");
  }
}

}  // namespace
}  // namespace circuit::tok
