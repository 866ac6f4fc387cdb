// The family table: one row per model family, mapping the tensor names of Hugging Face
// safetensors checkpoints and of GGUF files to the runtime's canonical weight slots, with the
// layout change each tensor needs. Part of the runtime's model stage; libtorch-free. The
// architecture itself (norm, positions, MLP, parallel residual, biases) is data in ModelConfig.
#pragma once

#include <string>
#include <vector>

#include "runtime/formats/model_config.h"

namespace circuit::rt {

// How a stored tensor becomes a canonical slot (canonical linear weights are [out, in]).
enum class Layout {
  AsIs,
  Transpose,       // HF Conv1D (GPT-2) stores [in, out]
  Split3,          // one third (Rule::part) of a fused [3 x, ...] q|k|v tensor along dim 0
  Conv1DSplit3,    // Transpose (weights only), then Split3: GPT-2's c_attn
  NeoxSplit3,      // GPT-NeoX query_key_value: rows grouped per head as [head, q|k|v, d_head]
  TlHeadsIn,       // TransformerLens W_Q/W_K/W_V [head, d_model, d_head], b_Q [head, d_head]
  TlHeadsOut,      // TransformerLens W_O [head, d_head, d_model]
  GgufRopeQ,       // llama.cpp's converter permuted these rows for its RoPE; undone here
  GgufRopeK,       // the same with n_kv_heads
};

struct TensorRule {
  const char* slot;    // canonical slot: "embed", "blocks.{l}.q.w", ...
  const char* source;  // stored name, "%d" for the layer
  Layout layout = Layout::AsIs;
  int part = 0;        // for the Split3 layouts: 0 = q, 1 = k, 2 = v
  bool optional = false;  // absent is fine (biases a checkpoint may omit, tied unembeddings)
};

struct FamilyRow {
  formats::Family family;
  std::vector<TensorRule> hf;    // safetensors names (after stripping a known prefix)
  std::vector<TensorRule> gguf;  // GGUF names
  // Prefixes some checkpoints put before every name (tried in order, "" first).
  std::vector<std::string> hf_prefixes;
  // GGUF architectures whose q/k rows llama.cpp permuted (GgufRope* layouts apply only there).
  std::vector<std::string> gguf_permuted_archs;
};

const FamilyRow& family_row(formats::Family family);

}  // namespace circuit::rt
