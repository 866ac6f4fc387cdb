// From canonical slots to ModelWeights: every shape checked against the ModelConfig (a
// mismatched checkpoint is a one-line error, not a crash inside a matmul), then q|k|v and
// gate|up fused so that each block runs one matmul for each.
#include <ATen/ATen.h>

#include <sstream>

#include "runtime/formats/format_error.h"
#include "runtime/weights/weight_loader.h"

namespace circuit::rt {

using formats::FormatError;

namespace {

std::string shape_text(at::IntArrayRef shape) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << "]";
  return out.str();
}

class Slots {
 public:
  Slots(WeightMap& weights, const std::string& where) : weights_(weights), where_(where) {}

  // The slot's tensor, checked against `shape`; undefined when absent and optional.
  at::Tensor take(const std::string& name, std::vector<int64_t> shape, bool optional = false) {
    auto it = weights_.find(name);
    if (it == weights_.end()) {
      if (optional) return {};
      throw FormatError(where_, "missing weight '" + name + "'");
    }
    at::Tensor t = std::move(it->second);
    weights_.erase(it);
    if (t.sizes() != at::IntArrayRef(shape)) {
      throw FormatError(where_, "weight '" + name + "' has shape " + shape_text(t.sizes()) +
                                    ", expected " + shape_text(shape));
    }
    return t;
  }

 private:
  WeightMap& weights_;
  const std::string& where_;
};

at::Tensor cat_defined(const std::vector<at::Tensor>& parts, const std::vector<int64_t>& sizes,
                       const at::Tensor& like) {
  bool any = false;
  for (const auto& p : parts) any |= p.defined();
  if (!any) return {};
  std::vector<at::Tensor> filled;
  for (size_t i = 0; i < parts.size(); ++i)
    filled.push_back(parts[i].defined() ? parts[i] : at::zeros({sizes[i]}, like.options()));
  return at::cat(filled, 0);
}

}  // namespace

ModelWeights assemble_weights(WeightMap weights, const formats::ModelConfig& c, const std::string& where) {
  Slots slots(weights, where);
  const int64_t d = c.d_model, H = c.n_heads, KV = c.n_kv_heads > 0 ? c.n_kv_heads : c.n_heads;
  const int64_t dh = c.d_head, m = c.d_mlp, V = c.d_vocab;
  const bool norm = c.norm != formats::NormKind::None;
  const bool layer_norm = c.norm == formats::NormKind::LayerNorm;
  const bool mlp = c.mlp != formats::MlpKind::None && m > 0;

  ModelWeights w;
  w.embed = slots.take("embed", {V, d});
  if (c.positions != formats::PositionKind::Rotary) w.pos_embed = slots.take("pos_embed", {c.n_ctx, d});
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string p = "blocks." + std::to_string(l) + ".";
    LayerWeights lw;
    if (norm) {
      lw.ln1_w = slots.take(p + "ln1.w", {d});
      lw.ln1_b = slots.take(p + "ln1.b", {d}, !layer_norm);
    }
    auto q = slots.take(p + "q.w", {H * dh, d});
    auto k = slots.take(p + "k.w", {KV * dh, d});
    auto v = slots.take(p + "v.w", {KV * dh, d});
    lw.qkv_w = at::cat({q, k, v}, 0);
    lw.qkv_b = cat_defined({slots.take(p + "q.b", {H * dh}, true), slots.take(p + "k.b", {KV * dh}, true),
                            slots.take(p + "v.b", {KV * dh}, true)},
                           {H * dh, KV * dh, KV * dh}, q);
    lw.o_w = slots.take(p + "o.w", {d, H * dh});
    lw.o_b = slots.take(p + "o.b", {d}, true);
    if (mlp) {
      if (norm) {
        lw.ln2_w = slots.take(p + "ln2.w", {d});
        lw.ln2_b = slots.take(p + "ln2.b", {d}, !layer_norm);
      }
      auto up = slots.take(p + "up.w", {m, d});
      if (c.mlp == formats::MlpKind::SwiGlu) {
        lw.in_w = at::cat({slots.take(p + "gate.w", {m, d}), up}, 0);
      } else {
        lw.in_w = up;
        lw.in_b = slots.take(p + "up.b", {m}, true);
      }
      lw.out_w = slots.take(p + "down.w", {d, m});
      lw.out_b = slots.take(p + "down.b", {d}, true);
    }
    w.layers.push_back(std::move(lw));
  }
  if (norm) {
    w.ln_final_w = slots.take("ln_final.w", {d});
    w.ln_final_b = slots.take("ln_final.b", {d}, !layer_norm);
  }
  w.unembed_w = slots.take("unembed.w", {V, d}, true);
  if (!w.unembed_w.defined()) w.unembed_w = w.embed;  // tied, or a checkpoint that omits it
  w.unembed_b = slots.take("unembed.b", {V}, true);
  return w;
}

}  // namespace circuit::rt
