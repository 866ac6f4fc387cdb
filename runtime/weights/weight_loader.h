// Weight loaders: read a model's stored tensors (safetensors or GGUF, dequantized), change
// each to the runtime's layout by the family table's rules, and assemble them into
// ModelWeights (shapes checked, q/k/v and gate/up fused). Part of the runtime's weights stage.
#pragma once

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <string>

#include "runtime/formats/model_config.h"
#include "runtime/formats/model_source.h"
#include "runtime/model/families.h"
#include "runtime/model/model_weights.h"

namespace circuit::rt {

// Every canonical slot of the model, on `device` in `dtype`. One stored tensor at a time is
// converted, so at most one extra copy of one tensor is alive besides the mapped file.
WeightMap load_weight_map(const formats::ModelSource& source, c10::Device device, c10::ScalarType dtype);

// Checks every slot's shape against the config and builds ModelWeights. `where` names the
// model in errors ("model.safetensors: 'blocks.3.q.w' has shape [64, 32], expected [64, 64]").
ModelWeights assemble_weights(WeightMap weights, const formats::ModelConfig& config,
                              const std::string& where);

// A stored tensor (a row-major view) in the runtime's layout, by one TensorRule.
at::Tensor apply_layout(const at::Tensor& stored, Layout layout, int part,
                        const formats::ModelConfig& config);

// Undoes llama.cpp's per-head row permutation of q_proj/k_proj (interleaved rotary pairs back
// to Hugging Face's half-split layout). Works on weights [heads*d_head, in] and biases.
at::Tensor unpermute_gguf_rope_rows(const at::Tensor& stored, int heads);

}  // namespace circuit::rt
