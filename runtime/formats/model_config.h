// ModelConfig: the architecture and shape of a transformer, as one row-like description
// that the runtime builds a model from and the compiler checks circuits against.
// Part of the libtorch-free formats layer; filled from a Hugging Face config.json or from
// GGUF metadata.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace circuit::formats {

// Model families. Each is a row of the family table in the runtime (runtime/model/families.cpp);
// per-family differences are data here, not code paths.
enum class Family {
  Gpt2,      // learned positions, LayerNorm, GELU MLP, biases everywhere
  Llama,     // RMSNorm, RoPE, GQA, SwiGLU (SmolLM2, Llama 2/3, Qwen2 with q/k/v biases)
  GptNeoX,   // Pythia: parallel residual, partial rotary, LayerNorm, GELU
  AttnOnly,  // our own toy models: no norm, no MLP, positions added to queries and keys only
};

enum class NormKind { LayerNorm, RmsNorm, None };
enum class PositionKind {
  Learned,        // learned absolute embedding added to the residual stream (GPT-2)
  LearnedQkOnly,  // learned absolute embedding added to the query and key inputs only
  Rotary,         // RoPE on (a fraction of) each head's query and key
};
enum class MlpKind { Gelu, SwiGlu, None };

struct RopeScaling {  // Llama 3 style frequency scaling ("rope_type": "llama3")
  float factor = 1.0f;
  float low_freq_factor = 1.0f;
  float high_freq_factor = 1.0f;
  int original_max_position_embeddings = 0;
};

struct ModelConfig {
  std::string name;          // short or checkpoint name, for display
  Family family = Family::Llama;
  std::string architecture;  // as the checkpoint spells it ("LlamaForCausalLM", "llama", ...)

  int n_layers = 0;
  int d_model = 0;
  int n_heads = 0;
  int n_kv_heads = 0;        // == n_heads without GQA
  int d_head = 0;            // usually d_model / n_heads
  int d_mlp = 0;             // 0 when the model has no MLP
  int d_vocab = 0;
  int n_ctx = 0;             // the longest sequence the model accepts

  NormKind norm = NormKind::RmsNorm;
  float norm_eps = 1e-5f;
  PositionKind positions = PositionKind::Rotary;
  float rope_theta = 10000.0f;
  float rotary_fraction = 1.0f;            // GPT-NeoX rotary_pct: leading fraction of d_head rotated
  std::optional<RopeScaling> rope_scaling;
  MlpKind mlp = MlpKind::SwiGlu;
  std::string activation = "silu";         // "gelu_new" (tanh), "gelu" (erf), "silu", "relu"
  bool parallel_residual = false;          // GPT-NeoX: attn and MLP both read resid_pre
  bool qkv_bias = false;                   // GPT-2, NeoX, Qwen2
  bool attn_out_bias = false;              // GPT-2, NeoX
  bool mlp_bias = false;                   // GPT-2, NeoX
  bool tied_embeddings = false;            // unembedding = embedding^T
  bool unembed_bias = false;               // the unembedding has a bias (our attn-only models)
  float attn_scale = 0.0f;                 // 0 means 1/sqrt(d_head)

  int bos_token_id = -1;                   // -1: none
  int eos_token_id = -1;
  int pad_token_id = -1;
  bool add_bos = false;                    // whether prompts get BOS prepended by default
};

// Short display name of a family, as used in config files and `circuit inspect`.
const char* family_name(Family family);

}  // namespace circuit::formats
