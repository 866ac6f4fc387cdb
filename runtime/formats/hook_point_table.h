// HookPointTable: the one declaration of every hook point a model exposes (name, shape in
// symbols, per-layer or not, head/position/neuron axes, opt-in or not, which models have it).
// Part of the libtorch-free formats layer: the runtime dispatches on it, the compiler's checks
// and the plan validator resolve names against it, and `circuit inspect` prints it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/formats/model_config.h"

namespace circuit::formats {

// Every hook point, in the order the forward pass reaches it. The value indexes the table.
enum class HookKind : std::uint8_t {
  Embed,           // hook_embed
  PosEmbed,        // hook_pos_embed
  ResidPre,        // blocks.{l}.hook_resid_pre
  Ln1Scale,        // blocks.{l}.ln1.hook_scale
  Ln1Normalized,   // blocks.{l}.ln1.hook_normalized
  QInput,          // blocks.{l}.attn.hook_q_input   (opt-in)
  KInput,          // blocks.{l}.attn.hook_k_input   (opt-in)
  VInput,          // blocks.{l}.attn.hook_v_input   (opt-in)
  Q,               // blocks.{l}.attn.hook_q
  K,               // blocks.{l}.attn.hook_k
  V,               // blocks.{l}.attn.hook_v
  RotQ,            // blocks.{l}.attn.hook_rot_q
  RotK,            // blocks.{l}.attn.hook_rot_k
  AttnScores,      // blocks.{l}.attn.hook_attn_scores
  Pattern,         // blocks.{l}.attn.hook_pattern
  Z,               // blocks.{l}.attn.hook_z
  Result,          // blocks.{l}.attn.hook_result    (opt-in)
  AttnOut,         // blocks.{l}.hook_attn_out
  ResidMid,        // blocks.{l}.hook_resid_mid
  Ln2Scale,        // blocks.{l}.ln2.hook_scale
  Ln2Normalized,   // blocks.{l}.ln2.hook_normalized
  MlpIn,           // blocks.{l}.hook_mlp_in
  MlpPre,          // blocks.{l}.mlp.hook_pre
  MlpPreLinear,    // blocks.{l}.mlp.hook_pre_linear
  MlpPost,         // blocks.{l}.mlp.hook_post
  MlpOut,          // blocks.{l}.hook_mlp_out
  ResidPost,       // blocks.{l}.hook_resid_post
  LnFinalScale,    // ln_final.hook_scale
  LnFinalNormalized,  // ln_final.hook_normalized
  Logits,          // hook_logits
};
inline constexpr int kHookKindCount = static_cast<int>(HookKind::Logits) + 1;

// Symbolic axis sizes; `hook_point_shape` turns them into numbers for one model and batch.
enum class Dim : std::uint8_t { Batch, Pos, QPos, KPos, Head, KvHead, DModel, DHead, DMlp, DVocab, One };

// Which models have a hook point.
enum class HookCondition : std::uint8_t {
  Always,
  LearnedPositions,  // PositionKind::Learned or LearnedQkOnly
  Rotary,            // PositionKind::Rotary
  Norm,              // the model has normalization layers
  Mlp,               // the model has MLPs
  NormAndMlp,        // the norm before the MLP
  SequentialMlp,     // resid_mid: an MLP that reads the residual after attention (not parallel)
  GatedMlp,          // SwiGLU's linear (up) branch
};

struct HookPointSpec {
  HookKind kind;
  const char* pattern;           // "blocks.{l}.attn.hook_q"; "{l}" only when per_layer
  std::vector<Dim> shape;        // e.g. {Batch, Pos, Head, DHead}
  bool per_layer;
  bool opt_in;                   // computed only when a hook asks for it (costs extra work)
  HookCondition condition;
  int pos_axis;                  // the (query) position axis; every point has one
  int head_axis;                 // -1: no head axis
  int neuron_axis;               // -1: no neuron axis (MLP hidden units)
  const char* doc;               // one line, for `circuit inspect` and hints
};

// The table, indexed by HookKind.
const std::vector<HookPointSpec>& hook_point_table();
const HookPointSpec& hook_point_spec(HookKind kind);

// Whether `config` has this hook point (e.g. no hook_rot_q without rotary positions).
bool hook_point_applies(const HookPointSpec& spec, const ModelConfig& config);

// The concrete name of a hook point ("blocks.3.attn.hook_z"); layer is ignored when not per-layer.
std::string hook_point_name(HookKind kind, int layer);

// Every hook point name the model has, in forward order; opt-in points only when asked.
std::vector<std::string> hook_point_names(const ModelConfig& config, bool include_opt_in);

// The size of one symbolic axis for this model (Batch and Pos/QPos/KPos come from the caller).
std::int64_t dim_size(Dim dim, const ModelConfig& config, std::int64_t batch, std::int64_t seq);
std::vector<std::int64_t> hook_point_shape(const HookPointSpec& spec, const ModelConfig& config,
                                           std::int64_t batch, std::int64_t seq);
// "[batch, pos, head, d_head]"
std::string shape_symbols(const HookPointSpec& spec);
const char* dim_symbol(Dim dim);

// A resolved name: which point and which layer (-1 when not per-layer).
struct HookPointRef {
  HookKind kind;
  int layer;
};

// The result of resolving a user's hook point name against a model. On failure `error` is one
// line ("unknown hook point 'x'; did you mean 'y'?" or "layer 7 out of range: layers are 0..1")
// and `suggestion` the nearest valid name, if any.
struct HookPointLookup {
  std::optional<HookPointRef> ref;
  std::string error;
  std::string suggestion;
};
HookPointLookup lookup_hook_point(std::string_view name, const ModelConfig& config);

// Like lookup_hook_point but throws std::invalid_argument with the one-line error.
HookPointRef resolve_hook_point(std::string_view name, const ModelConfig& config);

// Names matching a pattern where '*' matches any run of characters ("blocks.*.attn.hook_z",
// "*hook_resid_post", "hook_logits"); an opt-in point matches only a pattern that spells its
// name ("blocks.*.attn.hook_result"), or any pattern when include_opt_in is set.
std::vector<HookPointRef> match_hook_points(std::string_view pattern, const ModelConfig& config,
                                            bool include_opt_in);

// Valid range of heads at a hook point's head axis (n_heads or n_kv_heads).
int head_count(const HookPointSpec& spec, const ModelConfig& config);

}  // namespace circuit::formats
