#include "runtime/formats/dequantize.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "runtime/formats/format_error.h"

namespace circuit::formats {
namespace {

std::vector<uint8_t> read_bytes(const std::string& name) {
  std::ifstream in(std::string(CIRCUIT_FORMATS_TEST_DATA) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing test vector " << name << " (run make_dequant_vectors.py)";
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct VectorCase {
  GgmlType type;
  const char* file;
};

class DequantizeVectors : public ::testing::TestWithParam<VectorCase> {};

// The vectors were dequantized by the gguf Python package; ours must match bit for bit.
TEST_P(DequantizeVectors, MatchesTheGgufPackage) {
  const VectorCase c = GetParam();
  const auto raw = read_bytes(std::string(c.file) + ".bin");
  const auto expected_bytes = read_bytes(std::string(c.file) + ".f32");
  ASSERT_EQ(expected_bytes.size() % 4, 0u);
  std::vector<float> expected(expected_bytes.size() / 4);
  std::memcpy(expected.data(), expected_bytes.data(), expected_bytes.size());
  ASSERT_EQ(ggml_row_bytes(c.type, expected.size(), "t"), raw.size());

  std::vector<float> got(expected.size(), -12345.0f);
  dequantize(c.type, raw, got, std::string("vector ") + c.file);
  size_t mismatches = 0;
  for (size_t k = 0; k < got.size(); ++k) {
    uint32_t a, b;
    std::memcpy(&a, &got[k], 4);
    std::memcpy(&b, &expected[k], 4);
    if (a != b && mismatches++ < 5)
      ADD_FAILURE() << c.file << "[" << k << "]: got " << got[k] << ", gguf says " << expected[k];
  }
  EXPECT_EQ(mismatches, 0u);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, DequantizeVectors,
                         ::testing::Values(VectorCase{GgmlType::F32, "f32"}, VectorCase{GgmlType::F16, "f16"},
                                           VectorCase{GgmlType::BF16, "bf16"}, VectorCase{GgmlType::Q8_0, "q8_0"},
                                           VectorCase{GgmlType::Q4_0, "q4_0"}, VectorCase{GgmlType::Q4_1, "q4_1"},
                                           VectorCase{GgmlType::Q5_0, "q5_0"}, VectorCase{GgmlType::Q5_1, "q5_1"},
                                           VectorCase{GgmlType::Q4_K, "q4_k"}, VectorCase{GgmlType::Q5_K, "q5_k"},
                                           VectorCase{GgmlType::Q6_K, "q6_k"}),
                         [](const auto& info) { return std::string(info.param.file); });

TEST(Dequantize, HalfConversionsAreExact) {
  EXPECT_EQ(fp16_to_float(0x3C00), 1.0f);
  EXPECT_EQ(fp16_to_float(0xC000), -2.0f);
  EXPECT_EQ(fp16_to_float(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(fp16_to_float(0x7BFF), 65504.0f);
  EXPECT_TRUE(std::isinf(fp16_to_float(0x7C00)));
  EXPECT_TRUE(std::isnan(fp16_to_float(0x7E00)));
  EXPECT_EQ(bf16_to_float(0x3F80), 1.0f);
  EXPECT_EQ(bf16_to_float(0xC040), -3.0f);
}

TEST(Dequantize, TypeTable) {
  EXPECT_STREQ(ggml_type_name(GgmlType::Q4_K), "q4_K");
  EXPECT_EQ(ggml_type_traits(GgmlType::Q6_K).type_size, 210u);
  EXPECT_EQ(ggml_type_traits(GgmlType::Q4_1).block_size, 32u);
  EXPECT_TRUE(ggml_type_known(30));
  EXPECT_FALSE(ggml_type_known(4));   // removed Q4_2
  EXPECT_FALSE(ggml_type_known(1000));
  EXPECT_EQ(ggml_type_name(static_cast<GgmlType>(4)), nullptr);
  EXPECT_TRUE(ggml_type_dequantizable(GgmlType::Q5_K));
  EXPECT_FALSE(ggml_type_dequantizable(GgmlType::IQ2_XXS));
  EXPECT_EQ(ggml_row_bytes(GgmlType::Q4_0, 64, "t"), 36u);
}

std::string error_of(GgmlType type, size_t src_bytes, size_t n) {
  std::vector<uint8_t> src(src_bytes);
  std::vector<float> dst(n);
  try {
    dequantize(type, src, dst, "model.gguf: tensor 'blk.0.ffn_down.weight'");
  } catch (const FormatError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Dequantize, RefusesUnknownAndUnsupportedTypes) {
  const std::string unknown = error_of(static_cast<GgmlType>(77), 32, 32);
  EXPECT_NE(unknown.find("model.gguf: tensor 'blk.0.ffn_down.weight': cannot dequantize ggml type 77"),
            std::string::npos) << unknown;
  const std::string iq = error_of(GgmlType::IQ4_XS, 136, 256);
  EXPECT_NE(iq.find("iq4_xs (type 23)"), std::string::npos) << iq;
}

TEST(Dequantize, RefusesSizeMismatchAndPartialBlocks) {
  EXPECT_NE(error_of(GgmlType::Q8_0, 33, 32).find("need 34 bytes, got 33"), std::string::npos);
  EXPECT_NE(error_of(GgmlType::Q4_K, 144, 100).find("not a whole number of q4_K (type 12) blocks of 256"),
            std::string::npos) << error_of(GgmlType::Q4_K, 144, 100);
  EXPECT_EQ(error_of(GgmlType::F32, 0, 0), "no error");
}

}  // namespace
}  // namespace circuit::formats
