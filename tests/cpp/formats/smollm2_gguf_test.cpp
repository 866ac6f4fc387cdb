// Reads the real SmolLM2-135M-Instruct Q4_1 GGUF when it is present (models/smollm2-135m).
#include <chrono>
#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>

#include "runtime/formats/config_reader.h"
#include "runtime/formats/gguf_reader.h"

namespace circuit::formats {
namespace {

const std::string kPath = std::string(CIRCUIT_TEST_SOURCE_DIR) + "/models/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf";

class SmolLm2Gguf : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kPath)) GTEST_SKIP() << kPath << " is not present";
  }
};

TEST_F(SmolLm2Gguf, HeaderAndMetadata) {
  const GgufFile g = GgufFile::open(kPath);
  EXPECT_EQ(g.version(), 3u);
  EXPECT_EQ(g.get_string("general.architecture"), "llama");
  EXPECT_EQ(g.get_uint("llama.block_count"), 30u);
  EXPECT_EQ(g.get_uint("llama.attention.head_count"), 9u);
  EXPECT_EQ(g.get_uint("llama.attention.head_count_kv"), 3u);
  EXPECT_EQ(g.get_uint("llama.embedding_length"), 576u);
  EXPECT_EQ(g.get_string_array("tokenizer.ggml.tokens").size(), 49152u);
  EXPECT_EQ(g.get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_GT(g.get_string_array("tokenizer.ggml.merges").size(), 40000u);
}

TEST_F(SmolLm2Gguf, Config) {
  const ModelConfig c = config_from_gguf(GgufFile::open(kPath));
  EXPECT_EQ(c.family, Family::Llama);
  EXPECT_EQ(c.n_layers, 30);
  EXPECT_EQ(c.n_heads, 9);
  EXPECT_EQ(c.n_kv_heads, 3);
  EXPECT_EQ(c.d_model, 576);
  EXPECT_EQ(c.d_head, 64);
  EXPECT_EQ(c.d_mlp, 1536);
  EXPECT_EQ(c.d_vocab, 49152);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_FLOAT_EQ(c.rope_theta, 100000.0f);
  EXPECT_FLOAT_EQ(c.norm_eps, 1e-5f);
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.eos_token_id, 2);
}

TEST_F(SmolLm2Gguf, TensorsAndTypes) {
  const GgufFile g = GgufFile::open(kPath);
  EXPECT_EQ(g.tensors().size(), 2u + 30u * 9u);  // token_embd, output_norm, 9 per block
  const GgufTensorInfo* embd = g.find_tensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->row_major_shape(), (std::vector<int64_t>{49152, 576}));
  const GgufTensorInfo* q = g.find_tensor("blk.0.attn_q.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->type, GgmlType::Q4_1);
  EXPECT_EQ(q->row_major_shape(), (std::vector<int64_t>{576, 576}));
  EXPECT_EQ(g.find_tensor("blk.0.attn_k.weight")->row_major_shape(), (std::vector<int64_t>{192, 576}));
  EXPECT_EQ(g.find_tensor("blk.29.attn_norm.weight")->type, GgmlType::F32);
  EXPECT_EQ(g.find_tensor("output.weight"), nullptr);
}

// Every tensor dequantizes to finite values, fast (the bound is loose; the time is printed).
TEST_F(SmolLm2Gguf, DequantizesEverything) {
  const GgufFile g = GgufFile::open(kPath);
  const auto start = std::chrono::steady_clock::now();
  uint64_t total = 0;
  size_t non_finite = 0;
  std::vector<float> out;
  for (const GgufTensorInfo& t : g.tensors()) {
    out.resize(t.n_elements);
    dequantize(t.type, g.tensor_data(t), out, g.path() + ": tensor '" + t.name + "'");
    for (float v : out) non_finite += !std::isfinite(v);
    total += t.n_elements;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("dequantized %llu values in %.3f s\n", static_cast<unsigned long long>(total), seconds);
  EXPECT_EQ(non_finite, 0u);
  EXPECT_GT(total, 130'000'000u);
  EXPECT_LT(seconds, 10.0);
}

}  // namespace
}  // namespace circuit::formats
