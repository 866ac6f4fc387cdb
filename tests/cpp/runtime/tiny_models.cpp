#include "tiny_models.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "runtime/model/model_weights.h"

namespace circuit::rt::testing {

using formats::Family;

formats::ModelConfig tiny_config(Family family) {
  formats::ModelConfig c;
  c.family = family;
  c.name = "tiny";
  c.n_layers = 2;
  c.d_model = 32;
  c.n_heads = 4;
  c.n_kv_heads = 4;
  c.d_head = 8;
  c.d_mlp = 48;
  c.d_vocab = 50;
  c.n_ctx = 24;
  switch (family) {
    case Family::Gpt2:
      c.norm = formats::NormKind::LayerNorm;
      c.positions = formats::PositionKind::Learned;
      c.mlp = formats::MlpKind::Gelu;
      c.activation = "gelu_new";
      break;
    case Family::Llama:
      c.n_kv_heads = 2;
      c.norm = formats::NormKind::RmsNorm;
      c.positions = formats::PositionKind::Rotary;
      c.mlp = formats::MlpKind::SwiGlu;
      c.activation = "silu";
      break;
    case Family::GptNeoX:
      c.norm = formats::NormKind::LayerNorm;
      c.positions = formats::PositionKind::Rotary;
      c.rotary_fraction = 0.25f;
      c.mlp = formats::MlpKind::Gelu;
      c.activation = "gelu";
      c.parallel_residual = true;
      break;
    case Family::AttnOnly:
      c.norm = formats::NormKind::None;
      c.positions = formats::PositionKind::LearnedQkOnly;
      c.mlp = formats::MlpKind::None;
      c.d_mlp = 0;
      break;
  }
  return c;
}

HookedModel tiny_model(Family family, std::uint64_t seed, const RuntimeOptions& options) {
  auto c = tiny_config(family);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto r = [&](std::vector<int64_t> shape) { return at::randn(shape, gen) * 0.3; };
  const int64_t d = c.d_model, H = c.n_heads, KV = c.n_kv_heads, dh = c.d_head, m = c.d_mlp;
  WeightMap w;
  w["embed"] = r({c.d_vocab, d});
  if (c.positions != formats::PositionKind::Rotary) w["pos_embed"] = r({c.n_ctx, d});
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string p = "blocks." + std::to_string(l) + ".";
    w[p + "q.w"] = r({H * dh, d});
    w[p + "k.w"] = r({KV * dh, d});
    w[p + "v.w"] = r({KV * dh, d});
    w[p + "q.b"] = r({H * dh});
    w[p + "k.b"] = r({KV * dh});
    w[p + "v.b"] = r({KV * dh});
    w[p + "o.w"] = r({d, H * dh});
    w[p + "o.b"] = r({d});
    if (c.norm != formats::NormKind::None) {
      w[p + "ln1.w"] = 1 + r({d});
      w[p + "ln1.b"] = r({d});
      w[p + "ln2.w"] = 1 + r({d});
      w[p + "ln2.b"] = r({d});
    }
    if (m > 0) {
      w[p + "up.w"] = r({m, d});
      w[p + "gate.w"] = r({m, d});
      w[p + "up.b"] = r({m});
      w[p + "down.w"] = r({d, m});
      w[p + "down.b"] = r({d});
    }
  }
  if (c.norm != formats::NormKind::None) {
    w["ln_final.w"] = 1 + r({d});
    w["ln_final.b"] = r({d});
  }
  w["unembed.w"] = r({c.d_vocab, d});
  w["unembed.b"] = r({c.d_vocab});
  return HookedModel::from_weights(c, std::move(w), options);
}

}  // namespace circuit::rt::testing
