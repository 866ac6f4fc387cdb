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

// What every block of one forward pass shares.
struct ForwardState {
  const formats::ModelConfig& config;
  HookSet* hooks;          // null: no hooks at all
  at::Tensor allowed;      // [batch, 1, seq, seq] bool, attention allowed; undefined = causal only
  RopeTables rope;         // rotary families only
  at::Tensor qk_positions; // [batch, seq, d_model]: AttnOnly's positions, added to q/k inputs

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

// The MLP's output (hook_mlp_out not yet applied).
at::Tensor run_mlp(const LayerWeights& w, int layer, const at::Tensor& normed, const ForwardState& s);

}  // namespace circuit::rt
