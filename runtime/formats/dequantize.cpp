#include "runtime/formats/dequantize.h"

#include <array>
#include <cstring>

#include "runtime/formats/format_error.h"

namespace circuit::formats {
namespace {

struct TypeRow {
  GgmlType type;
  const char* name;
  GgmlTypeTraits traits;
};

// Block layouts as ggml defines them (ggml.c type_traits; gguf-py GGML_QUANT_SIZES).
constexpr TypeRow kTypes[] = {
    {GgmlType::F32, "f32", {1, 4}},          {GgmlType::F16, "f16", {1, 2}},
    {GgmlType::Q4_0, "q4_0", {32, 18}},      {GgmlType::Q4_1, "q4_1", {32, 20}},
    {GgmlType::Q5_0, "q5_0", {32, 22}},      {GgmlType::Q5_1, "q5_1", {32, 24}},
    {GgmlType::Q8_0, "q8_0", {32, 34}},      {GgmlType::Q8_1, "q8_1", {32, 40}},
    {GgmlType::Q2_K, "q2_K", {256, 84}},     {GgmlType::Q3_K, "q3_K", {256, 110}},
    {GgmlType::Q4_K, "q4_K", {256, 144}},    {GgmlType::Q5_K, "q5_K", {256, 176}},
    {GgmlType::Q6_K, "q6_K", {256, 210}},    {GgmlType::Q8_K, "q8_K", {256, 292}},
    {GgmlType::IQ2_XXS, "iq2_xxs", {256, 66}}, {GgmlType::IQ2_XS, "iq2_xs", {256, 74}},
    {GgmlType::IQ3_XXS, "iq3_xxs", {256, 98}}, {GgmlType::IQ1_S, "iq1_s", {256, 50}},
    {GgmlType::IQ4_NL, "iq4_nl", {32, 18}},  {GgmlType::IQ3_S, "iq3_s", {256, 110}},
    {GgmlType::IQ2_S, "iq2_s", {256, 82}},   {GgmlType::IQ4_XS, "iq4_xs", {256, 136}},
    {GgmlType::I8, "i8", {1, 1}},            {GgmlType::I16, "i16", {1, 2}},
    {GgmlType::I32, "i32", {1, 4}},          {GgmlType::I64, "i64", {1, 8}},
    {GgmlType::F64, "f64", {1, 8}},          {GgmlType::IQ1_M, "iq1_m", {256, 56}},
    {GgmlType::BF16, "bf16", {1, 2}},        {GgmlType::TQ1_0, "tq1_0", {256, 54}},
    {GgmlType::TQ2_0, "tq2_0", {256, 66}},   {GgmlType::MXFP4, "mxfp4", {32, 17}},
    {GgmlType::NVFP4, "nvfp4", {64, 36}},    {GgmlType::Q1_0, "q1_0", {128, 18}},
};

const TypeRow* find_row(GgmlType type) {
  for (const auto& row : kTypes)
    if (row.type == type) return &row;
  return nullptr;
}

float half_bits_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);  // inf / nan
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {  // subnormal half: normalise
    uint32_t e = 113;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      --e;
    }
    bits = sign | (e << 23) | ((mantissa & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// All 65536 halves, so the hot loops pay one load per scale.
const std::array<float, 65536>& half_table() {
  static const std::array<float, 65536> table = [] {
    std::array<float, 65536> t{};
    for (uint32_t i = 0; i < 65536; ++i) t[i] = half_bits_to_float(static_cast<uint16_t>(i));
    return t;
  }();
  return table;
}

inline uint16_t load_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline uint32_t load_u32(const uint8_t* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}

void decode_f32(const uint8_t* src, float* dst, size_t n) { std::memcpy(dst, src, n * 4); }

void decode_f16(const uint8_t* src, float* dst, size_t n) {
  const auto& h = half_table();
  for (size_t i = 0; i < n; ++i) dst[i] = h[load_u16(src + 2 * i)];
}

void decode_bf16(const uint8_t* src, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = bf16_to_float(load_u16(src + 2 * i));
}

// Q8_0: fp16 scale, 32 int8.
void decode_q8_0(const uint8_t* src, float* dst, size_t blocks) {
  const auto& h = half_table();
  for (size_t b = 0; b < blocks; ++b, src += 34, dst += 32) {
    const float d = h[load_u16(src)];
    const int8_t* q = reinterpret_cast<const int8_t*>(src + 2);
    for (int j = 0; j < 32; ++j) dst[j] = d * static_cast<float>(q[j]);
  }
}

// Q4_0: fp16 scale, 16 bytes of nibbles; low nibbles are elements 0..15, high ones 16..31.
void decode_q4_0(const uint8_t* src, float* dst, size_t blocks) {
  const auto& h = half_table();
  for (size_t b = 0; b < blocks; ++b, src += 18, dst += 32) {
    const float d = h[load_u16(src)];
    const uint8_t* q = src + 2;
    for (int j = 0; j < 16; ++j) {
      dst[j] = d * static_cast<float>(int(q[j] & 0x0f) - 8);
      dst[j + 16] = d * static_cast<float>(int(q[j] >> 4) - 8);
    }
  }
}

// Q4_1: fp16 scale and minimum, 16 bytes of nibbles.
void decode_q4_1(const uint8_t* src, float* dst, size_t blocks) {
  const auto& h = half_table();
  for (size_t b = 0; b < blocks; ++b, src += 20, dst += 32) {
    const float d = h[load_u16(src)];
    const float m = h[load_u16(src + 2)];
    const uint8_t* q = src + 4;
    for (int j = 0; j < 16; ++j) {
      dst[j] = d * static_cast<float>(q[j] & 0x0f) + m;
      dst[j + 16] = d * static_cast<float>(q[j] >> 4) + m;
    }
  }
}

// Q5_0 / Q5_1: like Q4_x plus a 32-bit word holding each element's fifth bit.
template <bool kHasMin>
void decode_q5(const uint8_t* src, float* dst, size_t blocks) {
  const auto& h = half_table();
  constexpr size_t kBlockBytes = kHasMin ? 24 : 22;
  for (size_t b = 0; b < blocks; ++b, src += kBlockBytes, dst += 32) {
    const float d = h[load_u16(src)];
    const float m = kHasMin ? h[load_u16(src + 2)] : 0.0f;
    const uint8_t* p = src + (kHasMin ? 4 : 2);
    const uint32_t qh = load_u32(p);
    const uint8_t* q = p + 4;
    for (int j = 0; j < 16; ++j) {
      const int lo = (q[j] & 0x0f) | (((qh >> j) & 1u) << 4);
      const int hi = (q[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4);
      if constexpr (kHasMin) {
        dst[j] = d * static_cast<float>(lo) + m;
        dst[j + 16] = d * static_cast<float>(hi) + m;
      } else {
        dst[j] = d * static_cast<float>(lo - 16);
        dst[j + 16] = d * static_cast<float>(hi - 16);
      }
    }
  }
}

// The 6-bit scale and minimum of sub-block j (0..7) of a Q4_K / Q5_K super-block.
inline void k_scale_min(int j, const uint8_t* s, uint8_t& scale, uint8_t& min) {
  if (j < 4) {
    scale = s[j] & 63;
    min = s[j + 4] & 63;
  } else {
    scale = (s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4);
    min = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// Q4_K / Q5_K: super-blocks of 256 = 8 sub-blocks of 32, each with a 6-bit scale and minimum
// relative to the fp16 d and dmin; Q5_K adds 32 bytes of fifth bits.
template <bool kFiveBit>
void decode_qk(const uint8_t* src, float* dst, size_t blocks) {
  const auto& h = half_table();
  constexpr size_t kBlockBytes = kFiveBit ? 176 : 144;
  for (size_t b = 0; b < blocks; ++b, src += kBlockBytes) {
    const float d = h[load_u16(src)];
    const float dmin = h[load_u16(src + 2)];
    const uint8_t* scales = src + 4;
    const uint8_t* qh = src + 16;
    const uint8_t* q = src + (kFiveBit ? 48 : 16);
    for (int group = 0; group < 4; ++group, q += 32, dst += 64) {
      uint8_t sc0, m0, sc1, m1;
      k_scale_min(2 * group, scales, sc0, m0);
      k_scale_min(2 * group + 1, scales, sc1, m1);
      const float d0 = d * static_cast<float>(sc0), min0 = dmin * static_cast<float>(m0);
      const float d1 = d * static_cast<float>(sc1), min1 = dmin * static_cast<float>(m1);
      for (int l = 0; l < 32; ++l) {
        int lo = q[l] & 0x0f, hi = q[l] >> 4;
        if constexpr (kFiveBit) {
          lo |= ((qh[l] >> (2 * group)) & 1) << 4;
          hi |= ((qh[l] >> (2 * group + 1)) & 1) << 4;
        }
        dst[l] = d0 * static_cast<float>(lo) - min0;
        dst[l + 32] = d1 * static_cast<float>(hi) - min1;
      }
    }
  }
}

// Q6_K: 256 elements as 4-bit low parts, 2-bit high parts, 16 int8 scales, fp16 d.
void decode_q6_k(const uint8_t* src, float* dst, size_t blocks) {
  const auto& h = half_table();
  for (size_t b = 0; b < blocks; ++b, src += 210) {
    const uint8_t* ql = src;
    const uint8_t* qh = src + 128;
    const int8_t* sc = reinterpret_cast<const int8_t*>(src + 192);
    const float d = h[load_u16(src + 208)];
    for (int half = 0; half < 2; ++half, ql += 64, qh += 32, sc += 8, dst += 128) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = int((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = int((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = int((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = int((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        dst[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
        dst[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
        dst[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
        dst[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
      }
    }
  }
}

std::string type_label(GgmlType type) {
  const char* name = ggml_type_name(type);
  std::string number = std::to_string(static_cast<uint32_t>(type));
  return name ? std::string(name) + " (type " + number + ")" : "type " + number;
}

}  // namespace

float fp16_to_float(uint16_t bits) { return half_table()[bits]; }

float bf16_to_float(uint16_t bits) {
  const uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &wide, 4);
  return f;
}

const char* ggml_type_name(GgmlType type) {
  const TypeRow* row = find_row(type);
  return row ? row->name : nullptr;
}

GgmlTypeTraits ggml_type_traits(GgmlType type) {
  const TypeRow* row = find_row(type);
  return row ? row->traits : GgmlTypeTraits{};
}

bool ggml_type_known(uint32_t number) { return find_row(static_cast<GgmlType>(number)) != nullptr; }

bool ggml_type_dequantizable(GgmlType type) {
  switch (type) {
    case GgmlType::F32: case GgmlType::F16: case GgmlType::BF16: case GgmlType::Q8_0:
    case GgmlType::Q4_0: case GgmlType::Q4_1: case GgmlType::Q5_0: case GgmlType::Q5_1:
    case GgmlType::Q4_K: case GgmlType::Q5_K: case GgmlType::Q6_K:
      return true;
    default:
      return false;
  }
}

uint64_t ggml_row_bytes(GgmlType type, uint64_t n_elements, const std::string& where) {
  const GgmlTypeTraits traits = ggml_type_traits(type);
  if (traits.block_size == 0)
    throw FormatError(where, "unknown ggml type " + std::to_string(static_cast<uint32_t>(type)));
  if (n_elements % traits.block_size != 0)
    throw FormatError(where, std::to_string(n_elements) + " elements are not a whole number of " +
                                 type_label(type) + " blocks of " +
                                 std::to_string(traits.block_size));
  return n_elements / traits.block_size * traits.type_size;
}

void dequantize(GgmlType type, std::span<const uint8_t> src, std::span<float> dst,
                const std::string& where) {
  if (!ggml_type_dequantizable(type))
    throw FormatError(where, "cannot dequantize ggml " + type_label(type) +
                                 " (supported: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, "
                                 "q4_K, q5_K, q6_K)");
  const uint64_t need = ggml_row_bytes(type, dst.size(), where);
  if (src.size() != need)
    throw FormatError(where, std::to_string(dst.size()) + " " + type_label(type) +
                                 " elements need " + std::to_string(need) + " bytes, got " +
                                 std::to_string(src.size()));
  const size_t n = dst.size();
  const size_t blocks = n / ggml_type_traits(type).block_size;
  const uint8_t* s = src.data();
  float* d = dst.data();
  switch (type) {
    case GgmlType::F32: decode_f32(s, d, n); break;
    case GgmlType::F16: decode_f16(s, d, n); break;
    case GgmlType::BF16: decode_bf16(s, d, n); break;
    case GgmlType::Q8_0: decode_q8_0(s, d, blocks); break;
    case GgmlType::Q4_0: decode_q4_0(s, d, blocks); break;
    case GgmlType::Q4_1: decode_q4_1(s, d, blocks); break;
    case GgmlType::Q5_0: decode_q5<false>(s, d, blocks); break;
    case GgmlType::Q5_1: decode_q5<true>(s, d, blocks); break;
    case GgmlType::Q4_K: decode_qk<false>(s, d, blocks); break;
    case GgmlType::Q5_K: decode_qk<true>(s, d, blocks); break;
    case GgmlType::Q6_K: decode_q6_k(s, d, blocks); break;
    default: break;  // excluded by ggml_type_dequantizable above
  }
}

}  // namespace circuit::formats
