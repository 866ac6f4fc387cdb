#include "runtime/formats/gguf_reader.h"

#include <gtest/gtest.h>

#include "runtime/formats/config_reader.h"
#include "runtime/formats/format_error.h"
#include "tests/cpp/formats/test_files.h"

namespace circuit::formats {
namespace {

using testing::GgufBuilder;

std::string error_of(const std::vector<uint8_t>& bytes) {
  try {
    GgufFile::parse(bytes, "model.gguf");
  } catch (const FormatError& e) {
    return e.what();
  }
  return "no error";
}

GgufBuilder small_model() {
  GgufBuilder b;
  b.kv_string("general.architecture", "llama")
      .kv_u32("llama.block_count", 2)
      .kv_f32("llama.rope.freq_base", 10000.0f)
      .kv_bool("tokenizer.ggml.add_bos_token", true)
      .kv_i8("small", -3)
      .kv_u64("big", 1ull << 40)
      .kv_f64("precise", 0.1)
      .kv_strings("tokenizer.ggml.tokens", {"<s>", "a", "", "héllo"})
      .kv_i32s("tokenizer.ggml.token_type", {3, 1, 1, -1})
      .kv_f32s("tokenizer.ggml.scores", {0.5f, -1.25f});
  b.tensor_f32("token_embd.weight", {3, 2}, {1, 2, 3, 4, 5, 6});
  b.tensor_f32("output_norm.weight", {3}, {7, 8, 9});
  return b;
}

TEST(GgufReader, ReadsHeaderMetadataAndTensors) {
  const auto bytes = small_model().build();
  const GgufFile g = GgufFile::parse(bytes, "model.gguf");
  EXPECT_EQ(g.path(), "model.gguf");
  EXPECT_EQ(g.version(), 3u);
  EXPECT_EQ(g.alignment(), 32u);
  EXPECT_EQ(g.data_offset() % 32, 0u);
  EXPECT_EQ(g.metadata().size(), 10u);
  EXPECT_EQ(g.metadata()[0].key, "general.architecture");
  EXPECT_EQ(g.get_string("general.architecture"), "llama");
  EXPECT_EQ(g.get_uint("llama.block_count"), 2u);
  EXPECT_EQ(g.get_int("llama.block_count"), 2);
  EXPECT_FLOAT_EQ(g.get_float("llama.rope.freq_base"), 10000.0);
  EXPECT_DOUBLE_EQ(g.get_float("precise"), 0.1);
  EXPECT_TRUE(g.get_bool("tokenizer.ggml.add_bos_token"));
  EXPECT_EQ(g.get_int("small"), -3);
  EXPECT_EQ(g.get_uint("big"), 1ull << 40);
  EXPECT_EQ(g.get_string_array("tokenizer.ggml.tokens"), (std::vector<std::string>{"<s>", "a", "", "héllo"}));
  EXPECT_EQ(g.get_int_array("tokenizer.ggml.token_type"), (std::vector<int64_t>{3, 1, 1, -1}));
  EXPECT_EQ(g.get_float_array("tokenizer.ggml.scores"), (std::vector<double>{0.5, -1.25}));
  EXPECT_EQ(g.get_float_array("tokenizer.ggml.token_type").size(), 4u);  // ints read as numbers

  ASSERT_EQ(g.tensors().size(), 2u);
  const GgufTensorInfo* embd = g.find_tensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->dims, (std::vector<uint64_t>{3, 2}));
  EXPECT_EQ(embd->row_major_shape(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(embd->type, GgmlType::F32);
  EXPECT_EQ(embd->n_elements, 6u);
  EXPECT_EQ(embd->n_bytes, 24u);
  EXPECT_EQ(g.find_tensor("missing"), nullptr);
  const auto values = g.dequantize_tensor(*g.find_tensor("output_norm.weight"));
  EXPECT_EQ(values, (std::vector<float>{7, 8, 9}));
  // tensor_data points into the caller's bytes: no copy.
  const auto span = g.tensor_data(*embd);
  EXPECT_GE(span.data(), bytes.data());
  EXPECT_LE(span.data() + span.size(), bytes.data() + bytes.size());
}

TEST(GgufReader, OptionalLookups) {
  const auto bytes = small_model().build();
  const GgufFile g = GgufFile::parse(bytes, "model.gguf");
  EXPECT_FALSE(g.has("nope"));
  EXPECT_EQ(g.find("nope"), nullptr);
  EXPECT_EQ(g.find_uint("nope"), std::nullopt);
  EXPECT_EQ(g.find_string("nope"), std::nullopt);
  EXPECT_EQ(g.find_bool("nope"), std::nullopt);
  EXPECT_EQ(g.find_float("nope"), std::nullopt);
  EXPECT_EQ(g.find_uint("llama.block_count"), 2u);
  EXPECT_EQ(g.find_string("general.architecture"), "llama");
}

TEST(GgufReader, WrongTypeAndMissingKeyName) {
  const auto bytes = small_model().build();
  const GgufFile g = GgufFile::parse(bytes, "model.gguf");
  try {
    g.get_uint("general.architecture");
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_STREQ(e.what(), "model.gguf: metadata 'general.architecture' is a string, expected an unsigned integer");
  }
  try {
    g.get_string("llama.context_length");
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_STREQ(e.what(), "model.gguf: missing metadata 'llama.context_length'");
  }
  EXPECT_THROW(g.get_uint("small"), FormatError);  // negative
  EXPECT_THROW(g.get_bool("llama.block_count"), FormatError);
  EXPECT_THROW(g.get_string_array("tokenizer.ggml.scores"), FormatError);
  EXPECT_THROW(g.get_int_array("tokenizer.ggml.tokens"), FormatError);
  EXPECT_THROW(g.find_uint("general.architecture"), FormatError);
}

TEST(GgufReader, ReadsVersion2AndCustomAlignment) {
  GgufBuilder b(2, 64);
  b.kv_u32("general.alignment", 64);
  b.tensor_f32("a", {2}, {1, 2});
  b.tensor_f32("b", {1}, {3});
  const auto bytes = b.build();
  const GgufFile g = GgufFile::parse(bytes, "v2.gguf");
  EXPECT_EQ(g.version(), 2u);
  EXPECT_EQ(g.alignment(), 64u);
  EXPECT_EQ(g.data_offset() % 64, 0u);
  EXPECT_EQ(g.find_tensor("b")->offset, 64u);
  EXPECT_EQ(g.dequantize_tensor(*g.find_tensor("b")), std::vector<float>{3});
}

TEST(GgufReader, NestedArrays) {
  std::vector<uint8_t> payload;
  GgufBuilder::put_to(payload, uint32_t(9));   // array of arrays
  GgufBuilder::put_to(payload, uint64_t(2));
  for (int k = 0; k < 2; ++k) {
    GgufBuilder::put_to(payload, uint32_t(4));  // each an array of uint32
    GgufBuilder::put_to(payload, uint64_t(1));
    GgufBuilder::put_to(payload, uint32_t(10 + k));
  }
  GgufBuilder b;
  b.kv_raw("nested", 9, payload);
  const auto bytes = b.build();
  const GgufFile g = GgufFile::parse(bytes, "n.gguf");
  const GgufValue& v = g.get("nested");
  ASSERT_EQ(v.items.size(), 2u);
  EXPECT_EQ(v.items[1].uints[0], 11u);
  EXPECT_EQ(v.array_size(), 2u);
}

TEST(GgufReader, RejectsBadMagicAndVersion) {
  auto bytes = small_model().build();
  bytes[0] = 'X';
  EXPECT_EQ(error_of(bytes), "model.gguf: not a GGUF file (bad magic)");
  EXPECT_EQ(error_of({'G', 'G'}), "model.gguf: too short to be a GGUF file (2 bytes)");
  EXPECT_EQ(error_of(GgufBuilder(1).build()), "model.gguf: unsupported GGUF version 1 (supported: 2, 3)");
  EXPECT_EQ(error_of(GgufBuilder(4).build()), "model.gguf: unsupported GGUF version 4 (supported: 2, 3)");
}

TEST(GgufReader, RejectsEveryTruncation) {
  const auto bytes = small_model().build();
  const GgufFile whole = GgufFile::parse(bytes, "model.gguf");
  const size_t data_end = whole.data_offset() + whole.tensors().back().offset + whole.tensors().back().n_bytes;
  for (size_t n = 0; n < data_end; ++n) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + n);
    EXPECT_THROW(GgufFile::parse(cut, "model.gguf"), FormatError) << "truncated to " << n;
  }
}

TEST(GgufReader, TensorPastTheEndNamesTensorAndSizes) {
  GgufBuilder b;
  b.tensor_f32("blk.3.attn_q.weight", {4, 4}, std::vector<float>(16, 1.0f));
  auto bytes = b.build();
  bytes.resize(bytes.size() - 4);
  const size_t size = bytes.size();
  EXPECT_EQ(error_of(bytes), "model.gguf: tensor 'blk.3.attn_q.weight' data ends at byte " +
                                 std::to_string(size + 4) + " but the file has " + std::to_string(size) + " bytes");
}

TEST(GgufReader, RejectsAbsurdCountsAndShapes) {
  {  // a metadata count far beyond the file
    auto bytes = GgufBuilder().kv_u32("a", 1).build();
    uint64_t huge = 1ull << 60;
    std::memcpy(bytes.data() + 16, &huge, 8);
    EXPECT_NE(error_of(bytes).find("claims 1152921504606846976 metadata entries"), std::string::npos) << error_of(bytes);
  }
  {  // an array length far beyond the file
    std::vector<uint8_t> payload;
    GgufBuilder::put_to(payload, uint32_t(8));
    GgufBuilder::put_to(payload, uint64_t(1) << 50);
    EXPECT_NE(error_of(GgufBuilder().kv_raw("x", 9, payload).build()).find("array elements"), std::string::npos);
  }
  {  // a shape whose element count overflows
    std::vector<uint8_t> zeros(8);
    GgufBuilder b;
    b.tensor("t", {1ull << 40, 1ull << 40}, 0, zeros);
    EXPECT_EQ(error_of(b.build()), "model.gguf: tensor 't' has an absurd shape");
  }
  {  // a string length far beyond the file
    GgufBuilder b;
    b.kv_string("k", "v");
    auto bytes = b.build();
    uint64_t huge = 1ull << 62;
    std::memcpy(bytes.data() + 24, &huge, 8);  // the key's length
    EXPECT_NE(error_of(bytes).find("absurd length"), std::string::npos) << error_of(bytes);
  }
}

TEST(GgufReader, RejectsUnknownTypes) {
  GgufBuilder b;
  b.tensor("blk.0.ffn_up.weight", {32}, 99, std::vector<uint8_t>(32));
  EXPECT_EQ(error_of(b.build()), "model.gguf: tensor 'blk.0.ffn_up.weight' has unknown ggml type 99");
  EXPECT_EQ(error_of(GgufBuilder().kv_raw("k", 13, {}).build()), "model.gguf: metadata 'k' has unknown value type 13");
  EXPECT_EQ(error_of(GgufBuilder().kv_raw("k", 7, {2}).build()), "model.gguf: metadata 'k' has bool value 2");
}

TEST(GgufReader, RejectsMisalignedOffsetsBadAlignmentAndDuplicates) {
  {
    GgufBuilder b;
    b.tensor_f32("a", {1}, {1});
    auto bytes = b.build();
    const GgufFile g = GgufFile::parse(bytes, "m.gguf");
    // patch the offset of "a" (last 8 bytes of its info, just before the padding)
    const size_t info_end = 24 + 8 + 1 + 4 + 8 + 4 + 8;
    uint64_t off = 4;
    std::memcpy(bytes.data() + info_end - 8, &off, 8);
    EXPECT_EQ(error_of(bytes), "model.gguf: tensor 'a' offset 4 is not a multiple of the alignment 32");
  }
  EXPECT_NE(error_of(GgufBuilder().kv_u32("general.alignment", 3).build()).find("not a power of two"), std::string::npos);
  EXPECT_NE(error_of(GgufBuilder().kv_string("general.alignment", "x").build()).find("expected an integer"),
            std::string::npos);
  EXPECT_EQ(error_of(GgufBuilder().kv_u32("a", 1).kv_u32("a", 2).build()), "model.gguf: metadata key 'a' appears twice");
}

// Two tensors sharing bytes: a write through one would change the other. Refused as the
// safetensors reader refuses it; tensors that only touch, and empty ones, are fine.
TEST(GgufReader, RejectsOverlappingTensorData) {
  GgufBuilder b;
  b.tensor_f32("a", {16}, std::vector<float>(16)).tensor_at("b", {8}, 0, 32);  // a: bytes 0..64, b: 32..64
  EXPECT_EQ(error_of(b.build()), "model.gguf: tensors 'a' and 'b' overlap (bytes 32 to 64 of the data section)");
  GgufBuilder same;
  same.tensor_f32("a", {8}, std::vector<float>(8)).tensor_at("b", {8}, 0, 0);
  EXPECT_EQ(error_of(same.build()), "model.gguf: tensors 'a' and 'b' overlap (bytes 0 to 32 of the data section)");
  GgufBuilder touching;
  touching.tensor_f32("a", {8}, std::vector<float>(8)).tensor_f32("b", {8}, std::vector<float>(8)).tensor_at("e", {0}, 0, 0);
  EXPECT_EQ(error_of(touching.build()), "no error");
}

TEST(GgufReader, QuantizedTensorNeedsWholeBlocks) {
  GgufBuilder b;
  b.tensor("q", {16}, 2, std::vector<uint8_t>(18));  // q4_0 row of 16 < one block of 32
  EXPECT_EQ(error_of(b.build()), "model.gguf: tensor 'q' has 16 columns, not a multiple of the q4_0 block size 32");
}

TEST(GgufReader, DequantizeUnsupportedTypeNamesTensorAndNumber) {
  GgufBuilder b;
  b.tensor("blk.0.attn_k.weight", {256}, 10, std::vector<uint8_t>(84));  // q2_K
  const auto bytes = b.build();
  const GgufFile g = GgufFile::parse(bytes, "m.gguf");
  try {
    g.dequantize_tensor(g.tensors()[0]);
    FAIL();
  } catch (const FormatError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("m.gguf: tensor 'blk.0.attn_k.weight'"), std::string::npos) << what;
    EXPECT_NE(what.find("q2_K (type 10)"), std::string::npos) << what;
  }
}

TEST(GgufReader, OpensFromDisk) {
  testing::ScratchDir dir;
  const auto bytes = small_model().build();
  const std::string path = dir.write("m.gguf", bytes);
  GgufFile g = GgufFile::open(path);
  EXPECT_EQ(g.path(), path);
  EXPECT_EQ(g.dequantize_tensor(*g.find_tensor("token_embd.weight")), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  const GgufFile moved = std::move(g);
  EXPECT_EQ(moved.tensors().size(), 2u);
}

// A file the gguf Python package wrote (tests/fuzz/gguf/make_corpus.py): every metadata type,
// a tensor of each decodable type.
TEST(GgufReader, ReadsAFileWrittenByTheGgufPackage) {
  const GgufFile g = GgufFile::open(std::string(CIRCUIT_TEST_SOURCE_DIR) + "/tests/fuzz/gguf/corpus/valid_llama.gguf");
  EXPECT_EQ(g.version(), 3u);
  EXPECT_EQ(g.get_uint("x.u8"), 7u);
  EXPECT_EQ(g.get_int("x.i16"), -5);
  EXPECT_EQ(g.get_uint("x.u64"), 1ull << 40);
  EXPECT_DOUBLE_EQ(g.get_float("x.f64"), 0.25);
  EXPECT_EQ(g.get("x.nested").items.size(), 2u);
  EXPECT_EQ(g.get_string_array("tokenizer.ggml.tokens").size(), 4u);
  EXPECT_EQ(g.get_float_array("tokenizer.ggml.scores")[3], -3.0);
  const ModelConfig c = config_from_gguf(g);
  EXPECT_EQ(c.n_layers, 1);
  EXPECT_EQ(c.d_model, 32);
  EXPECT_EQ(c.n_kv_heads, 1);
  EXPECT_EQ(c.d_vocab, 4);
  EXPECT_TRUE(c.add_bos);
  EXPECT_EQ(g.tensors().size(), 11u);
  const GgufTensorInfo* embd = g.find_tensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->row_major_shape(), (std::vector<int64_t>{4, 32}));
  const std::vector<float> reference = g.dequantize_tensor(*embd);
  for (const GgufTensorInfo& t : g.tensors()) {
    const std::vector<float> values = g.dequantize_tensor(t);
    EXPECT_EQ(values.size(), t.n_elements) << t.name;
    // Quantized copies of the first two rows stay close to them.
    const bool copy_of_embd = t.name.find("blk.0.") == 0 && t.name.find("_k.") == std::string::npos;
    if (copy_of_embd) {
      for (size_t k = 0; k < values.size(); ++k)
        EXPECT_NEAR(values[k], reference[k], 0.35f) << t.name << "[" << k << "]";
    }
  }
}

}  // namespace
}  // namespace circuit::formats
