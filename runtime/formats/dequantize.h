// ggml tensor types and their dequantization to float32: the formats layer's decoder for the
// quantized weights stored in GGUF files. Matches the gguf Python package's
// gguf.quants.dequantize bit for bit (tests/cpp/formats/dequant_test.cpp checks it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace circuit::formats {

// The numbers are ggml's (ggml.h enum ggml_type); they are what GGUF stores.
enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  MXFP4 = 39,
  NVFP4 = 40,
  Q1_0 = 41,
};

// Layout of one ggml type: `block_size` elements are stored in `type_size` bytes.
struct GgmlTypeTraits {
  uint32_t block_size = 0;
  uint32_t type_size = 0;
};

// ggml's name of a type ("q4_K", "f16", ...) or nullptr for a number ggml does not define.
const char* ggml_type_name(GgmlType type);
// The layout of a known type; {0, 0} for numbers ggml does not define.
GgmlTypeTraits ggml_type_traits(GgmlType type);
// Whether `number` is a type ggml defines (any of the enum's values).
bool ggml_type_known(uint32_t number);
// Whether dequantize() can decode this type: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1,
// Q4_K, Q5_K, Q6_K.
bool ggml_type_dequantizable(GgmlType type);

// Bytes needed for `n_elements` elements of `type`. Throws FormatError(where, ...) when the
// type is unknown or n_elements is not a whole number of blocks.
uint64_t ggml_row_bytes(GgmlType type, uint64_t n_elements, const std::string& where);

// Decodes `dst.size()` elements of `type` from `src` into `dst`. `src` must hold exactly the
// bytes of dst.size() elements (ggml_row_bytes). `where` names the tensor for errors, e.g.
// "model.gguf: tensor 'blk.0.attn_q.weight'". Throws FormatError for an unknown or
// unsupported type (naming its number), a size mismatch, or a partial block.
void dequantize(GgmlType type, std::span<const uint8_t> src, std::span<float> dst,
                const std::string& where);

// IEEE half and bfloat16 to float, exact.
float fp16_to_float(uint16_t bits);
float bf16_to_float(uint16_t bits);

}  // namespace circuit::formats
