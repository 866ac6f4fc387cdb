#include "compiler/plan/model_shape.h"

namespace circuit::plan {

ModelShape model_shape_of(const formats::ModelConfig& c) {
  ModelShape s;
  s.name = c.name;
  s.family = formats::family_name(c.family);
  s.n_layers = c.n_layers;
  s.n_heads = c.n_heads;
  s.n_kv_heads = c.n_kv_heads > 0 ? c.n_kv_heads : c.n_heads;
  s.d_model = c.d_model;
  s.d_head = c.d_head;
  s.d_mlp = c.mlp == formats::MlpKind::None ? 0 : c.d_mlp;
  s.d_vocab = c.d_vocab;
  s.n_ctx = c.n_ctx;
  return s;
}

std::optional<formats::ModelConfig> model_config_for(const ModelShape& s) {
  using formats::Family;
  formats::ModelConfig c;
  // Each family's architecture, as the family table in the runtime defines it; only the parts
  // that decide which hook points exist matter here.
  if (s.family == formats::family_name(Family::Gpt2)) {
    c.family = Family::Gpt2;
    c.norm = formats::NormKind::LayerNorm;
    c.positions = formats::PositionKind::Learned;
    c.mlp = formats::MlpKind::Gelu;
  } else if (s.family == formats::family_name(Family::Llama)) {
    c.family = Family::Llama;
    c.norm = formats::NormKind::RmsNorm;
    c.positions = formats::PositionKind::Rotary;
    c.mlp = formats::MlpKind::SwiGlu;
  } else if (s.family == formats::family_name(Family::GptNeoX)) {
    c.family = Family::GptNeoX;
    c.norm = formats::NormKind::LayerNorm;
    c.positions = formats::PositionKind::Rotary;
    c.mlp = formats::MlpKind::Gelu;
    c.parallel_residual = true;
  } else if (s.family == formats::family_name(Family::AttnOnly)) {
    c.family = Family::AttnOnly;
    c.norm = formats::NormKind::None;
    c.positions = formats::PositionKind::LearnedQkOnly;
    c.mlp = formats::MlpKind::None;
  } else {
    return std::nullopt;
  }
  if (s.d_mlp == 0) c.mlp = formats::MlpKind::None;
  c.name = s.name;
  c.n_layers = s.n_layers;
  c.n_heads = s.n_heads;
  c.n_kv_heads = s.n_kv_heads;
  c.d_model = s.d_model;
  c.d_head = s.d_head;
  c.d_mlp = s.d_mlp;
  c.d_vocab = s.d_vocab;
  c.n_ctx = s.n_ctx;
  return c;
}

}  // namespace circuit::plan
