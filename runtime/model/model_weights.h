// ModelWeights: a loaded model's tensors in the runtime's own layout (linear weights as
// [out, in], q/k/v fused, gate/up fused), as the weight loaders produce them and the
// transformer block reads them. Part of the runtime's model stage; included by few files.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <unordered_map>
#include <vector>

namespace circuit::rt {

// Canonical tensor slots, before fusion: what a family's tensor-name map fills.
// Per-layer slots are "blocks.{l}.<slot>"; model-level slots are plain.
using WeightMap = std::unordered_map<std::string, at::Tensor>;

struct LayerWeights {
  at::Tensor ln1_w, ln1_b;     // [d_model]
  at::Tensor qkv_w, qkv_b;     // [(n_heads + 2 n_kv_heads) d_head, d_model], rows q | k | v
  at::Tensor o_w, o_b;         // [d_model, n_heads d_head]
  at::Tensor ln2_w, ln2_b;     // [d_model]
  at::Tensor in_w, in_b;       // [d_mlp, d_model], or gate | up fused [2 d_mlp, d_model]
  at::Tensor out_w, out_b;     // [d_model, d_mlp]
};

struct ModelWeights {
  at::Tensor embed;            // [d_vocab, d_model]
  at::Tensor pos_embed;        // [n_ctx, d_model], learned positions only
  std::vector<LayerWeights> layers;
  at::Tensor ln_final_w, ln_final_b;
  at::Tensor unembed_w;        // [d_vocab, d_model] (the embedding itself when tied)
  at::Tensor unembed_b;        // [d_vocab] or undefined
};

}  // namespace circuit::rt
