// The one transformer block every family runs: norms, attention, MLP and the residual
// stream, parameterized by ModelConfig, with a hook point at every TransformerLens-named
// activation. Part of the runtime's model stage; internal to runtime/model.
#pragma once

#include <ATen/core/Tensor.h>

#include "runtime/formats/model_config.h"
#include "runtime/hooks/hook_set.h"
#include "runtime/model/model_weights.h"
#include "runtime/model/rope.h"

namespace circuit::rt {

struct CachedPrefix;
struct KvRecord;

// What every block of one forward pass shares.
struct ForwardState {
  const formats::ModelConfig& config;
  HookSet* hooks;          // null: no hooks at all
  at::Tensor allowed;      // [batch, 1, seq, seq] bool, attention allowed; undefined = causal only
                           // (resumed: [batch, 1, n, seq] or [n, seq] for the n computed columns)
  RopeTables rope;         // rotary families only
  at::Tensor qk_positions; // [batch, seq, d_model]: AttnOnly's positions, added to q/k inputs
  const CachedPrefix* prefix = nullptr;  // resumed forward: the cached columns before the first
  KvRecord* record = nullptr;            // where to keep each layer's keys and values, if anywhere

  bool active(HookKind kind, int layer) const { return hooks && hooks->active(kind, layer); }
  at::Tensor hook(HookKind kind, int layer, at::Tensor x) const {
    return active(kind, layer) ? hooks->apply(kind, layer, std::move(x)) : x;
  }
};

// resid_pre [batch, seq, d_model] -> resid_post.
at::Tensor run_block(const LayerWeights& w, int layer, at::Tensor resid, const ForwardState& s);

// Normalization with its hook_scale / hook_normalized points (no-op for NormKind::None).
at::Tensor run_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                    HookKind scale_kind, HookKind normalized_kind, int layer, const ForwardState& s);

// The attention layer's output (hook_attn_out not yet applied).
at::Tensor run_attention(const LayerWeights& w, int layer, const at::Tensor& normed,
                         const ForwardState& s);

// Attention of a resumed forward's computed columns to the cached columns and to themselves:
// q [batch, heads, n, d_head], k and v [batch, kv_heads, n, d_head] -> z [batch, heads, n, d_head].
// Runs the hook_attn_scores / hook_pattern points ([batch, heads, n, seq]).
at::Tensor attend_with_prefix(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int layer,
                              double scale, const ForwardState& s);

// Repeats each key/value head for the query heads that share it ([b, kv, p, d] -> [b, h, p, d]).
at::Tensor repeat_kv(const at::Tensor& x, int64_t groups);

// The fill for masked scores: the dtype's lowest finite value, as Hugging Face uses.
double lowest_score(c10::ScalarType dtype);

// The MLP's output (hook_mlp_out not yet applied).
at::Tensor run_mlp(const LayerWeights& w, int layer, const at::Tensor& normed, const ForwardState& s);

}  // namespace circuit::rt
