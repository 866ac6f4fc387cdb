#include "runtime/model/rope.h"

#include <ATen/ATen.h>

#include <cmath>

namespace circuit::rt {

int rotary_dims(const formats::ModelConfig& config) {
  int dims = static_cast<int>(config.d_head * config.rotary_fraction);
  return dims - dims % 2;
}

at::Tensor rope_inverse_frequencies(const formats::ModelConfig& config) {
  const int dims = rotary_dims(config);
  auto exponents = at::arange(0, dims, 2, at::kLong).to(at::kFloat) / static_cast<float>(dims);
  auto inv = 1.0 / at::pow(static_cast<double>(config.rope_theta), exponents);
  if (!config.rope_scaling) return inv;
  // Llama 3: long wavelengths are slowed by `factor`, short ones kept, the band between
  // interpolated smoothly.
  const auto& s = *config.rope_scaling;
  const double old_len = s.original_max_position_embeddings;
  const double low_wavelen = old_len / s.low_freq_factor;
  const double high_wavelen = old_len / s.high_freq_factor;
  auto wavelen = 2.0 * M_PI / inv;
  auto scaled = at::where(wavelen > low_wavelen, inv / s.factor, inv);
  auto smooth = (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
  auto smoothed = (1.0 - smooth) * scaled / s.factor + smooth * scaled;
  auto medium = (wavelen >= high_wavelen).logical_and(wavelen <= low_wavelen);
  return at::where(medium, smoothed, scaled).to(at::kFloat);
}

RopeTables rope_tables(const at::Tensor& inverse_frequencies, const at::Tensor& positions,
                       c10::ScalarType dtype) {
  auto inv = inverse_frequencies.to(positions.device());
  auto freqs = positions.to(at::kFloat).unsqueeze(-1) * inv;  // [batch, seq, dims/2]
  auto emb = at::cat({freqs, freqs}, -1).unsqueeze(2);        // [batch, seq, 1, dims]
  return RopeTables{emb.cos().to(dtype), emb.sin().to(dtype), static_cast<int>(inv.size(0) * 2)};
}

at::Tensor apply_rope(const at::Tensor& x, const RopeTables& t) {
  const int64_t d_head = x.size(-1);
  auto rot = t.dims == d_head ? x : x.narrow(-1, 0, t.dims);
  const int64_t half = t.dims / 2;
  auto rotated = at::cat({-rot.narrow(-1, half, half), rot.narrow(-1, 0, half)}, -1);
  auto out = rot * t.cos + rotated * t.sin;
  if (t.dims == d_head) return out;
  return at::cat({out, x.narrow(-1, t.dims, d_head - t.dims)}, -1);
}

}  // namespace circuit::rt
