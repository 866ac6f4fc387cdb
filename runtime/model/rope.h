// Rotary position embeddings (RoPE) as Hugging Face computes them: inverse frequencies with
// optional Llama 3 scaling, cos/sin tables for given position ids, and the rotate-half
// application to the leading rotary dims of each head. Part of the runtime's model stage.
#pragma once

#include <ATen/core/Tensor.h>

#include "runtime/formats/model_config.h"

namespace circuit::rt {

// Number of leading dims of each head that rotate (GPT-NeoX rotary_pct; all for Llama).
int rotary_dims(const formats::ModelConfig& config);

// [rotary_dims / 2] float32 inverse frequencies, Llama 3 rope_scaling applied when present.
at::Tensor rope_inverse_frequencies(const formats::ModelConfig& config);

struct RopeTables {
  at::Tensor cos, sin;  // [batch, seq, 1, rotary_dims] in the activations' dtype
  int dims = 0;
};

// Tables for position ids [batch, seq] (computed in float32 like HF, then cast to `dtype`).
RopeTables rope_tables(const at::Tensor& inverse_frequencies, const at::Tensor& positions,
                       c10::ScalarType dtype);

// Rotates the first `tables.dims` dims of x [batch, seq, heads, d_head] (the rest pass).
at::Tensor apply_rope(const at::Tensor& x, const RopeTables& tables);

}  // namespace circuit::rt
