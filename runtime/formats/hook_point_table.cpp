#include "runtime/formats/hook_point_table.h"

#include "runtime/formats/edit_distance.h"

#include <algorithm>
#include <stdexcept>

namespace circuit::formats {
namespace {

using D = Dim;
using C = HookCondition;
using K = HookKind;

// One row per hook point, in HookKind order (checked below).
std::vector<HookPointSpec> build_table() {
  std::vector<HookPointSpec> t = {
      {K::Embed, "hook_embed", {D::Batch, D::Pos, D::DModel}, false, false, C::Always, 1, -1, -1,
       "token embeddings"},
      {K::PosEmbed, "hook_pos_embed", {D::Batch, D::Pos, D::DModel}, false, false,
       C::LearnedPositions, 1, -1, -1, "learned position embeddings"},
      {K::ResidPre, "blocks.{l}.hook_resid_pre", {D::Batch, D::Pos, D::DModel}, true, false,
       C::Always, 1, -1, -1, "residual stream entering the block"},
      {K::Ln1Scale, "blocks.{l}.ln1.hook_scale", {D::Batch, D::Pos, D::One}, true, false, C::Norm,
       1, -1, -1, "attention norm's divisor (std or rms)"},
      {K::Ln1Normalized, "blocks.{l}.ln1.hook_normalized", {D::Batch, D::Pos, D::DModel}, true,
       false, C::Norm, 1, -1, -1, "attention norm's output"},
      {K::QInput, "blocks.{l}.attn.hook_q_input", {D::Batch, D::Pos, D::Head, D::DModel}, true,
       true, C::Always, 1, 2, -1, "each head's query input (opt-in)"},
      {K::KInput, "blocks.{l}.attn.hook_k_input", {D::Batch, D::Pos, D::KvHead, D::DModel}, true,
       true, C::Always, 1, 2, -1, "each key head's input (opt-in)"},
      {K::VInput, "blocks.{l}.attn.hook_v_input", {D::Batch, D::Pos, D::KvHead, D::DModel}, true,
       true, C::Always, 1, 2, -1, "each value head's input (opt-in)"},
      {K::Q, "blocks.{l}.attn.hook_q", {D::Batch, D::Pos, D::Head, D::DHead}, true, false,
       C::Always, 1, 2, -1, "queries"},
      {K::K, "blocks.{l}.attn.hook_k", {D::Batch, D::Pos, D::KvHead, D::DHead}, true, false,
       C::Always, 1, 2, -1, "keys"},
      {K::V, "blocks.{l}.attn.hook_v", {D::Batch, D::Pos, D::KvHead, D::DHead}, true, false,
       C::Always, 1, 2, -1, "values"},
      {K::RotQ, "blocks.{l}.attn.hook_rot_q", {D::Batch, D::Pos, D::Head, D::DHead}, true, false,
       C::Rotary, 1, 2, -1, "queries after RoPE"},
      {K::RotK, "blocks.{l}.attn.hook_rot_k", {D::Batch, D::Pos, D::KvHead, D::DHead}, true,
       false, C::Rotary, 1, 2, -1, "keys after RoPE"},
      {K::AttnScores, "blocks.{l}.attn.hook_attn_scores", {D::Batch, D::Head, D::QPos, D::KPos},
       true, false, C::Always, 2, 1, -1, "scaled, masked attention scores"},
      {K::Pattern, "blocks.{l}.attn.hook_pattern", {D::Batch, D::Head, D::QPos, D::KPos}, true,
       false, C::Always, 2, 1, -1, "attention pattern (softmax of the scores)"},
      {K::Z, "blocks.{l}.attn.hook_z", {D::Batch, D::Pos, D::Head, D::DHead}, true, false,
       C::Always, 1, 2, -1, "pattern-weighted values, per head"},
      {K::Result, "blocks.{l}.attn.hook_result", {D::Batch, D::Pos, D::Head, D::DModel}, true,
       true, C::Always, 1, 2, -1, "each head's output into the residual stream (opt-in)"},
      {K::AttnOut, "blocks.{l}.hook_attn_out", {D::Batch, D::Pos, D::DModel}, true, false,
       C::Always, 1, -1, -1, "attention layer output"},
      {K::ResidMid, "blocks.{l}.hook_resid_mid", {D::Batch, D::Pos, D::DModel}, true, false,
       C::SequentialMlp, 1, -1, -1, "residual stream between attention and MLP"},
      {K::Ln2Scale, "blocks.{l}.ln2.hook_scale", {D::Batch, D::Pos, D::One}, true, false,
       C::NormAndMlp, 1, -1, -1, "MLP norm's divisor (std or rms)"},
      {K::Ln2Normalized, "blocks.{l}.ln2.hook_normalized", {D::Batch, D::Pos, D::DModel}, true,
       false, C::NormAndMlp, 1, -1, -1, "MLP norm's output"},
      {K::MlpIn, "blocks.{l}.hook_mlp_in", {D::Batch, D::Pos, D::DModel}, true, false, C::Mlp, 1,
       -1, -1, "MLP input (before its norm)"},
      {K::MlpPre, "blocks.{l}.mlp.hook_pre", {D::Batch, D::Pos, D::DMlp}, true, false, C::Mlp, 1,
       -1, 2, "MLP pre-activation (gate for SwiGLU)"},
      {K::MlpPreLinear, "blocks.{l}.mlp.hook_pre_linear", {D::Batch, D::Pos, D::DMlp}, true,
       false, C::GatedMlp, 1, -1, 2, "SwiGLU's linear (up) branch"},
      {K::MlpPost, "blocks.{l}.mlp.hook_post", {D::Batch, D::Pos, D::DMlp}, true, false, C::Mlp,
       1, -1, 2, "MLP neuron activations"},
      {K::MlpOut, "blocks.{l}.hook_mlp_out", {D::Batch, D::Pos, D::DModel}, true, false, C::Mlp,
       1, -1, -1, "MLP output"},
      {K::ResidPost, "blocks.{l}.hook_resid_post", {D::Batch, D::Pos, D::DModel}, true, false,
       C::Always, 1, -1, -1, "residual stream leaving the block"},
      {K::LnFinalScale, "ln_final.hook_scale", {D::Batch, D::Pos, D::One}, false, false, C::Norm,
       1, -1, -1, "final norm's divisor (std or rms)"},
      {K::LnFinalNormalized, "ln_final.hook_normalized", {D::Batch, D::Pos, D::DModel}, false,
       false, C::Norm, 1, -1, -1, "final norm's output"},
      {K::Logits, "hook_logits", {D::Batch, D::Pos, D::DVocab}, false, false, C::Always, 1, -1, -1,
       "output logits"},
  };
  for (size_t i = 0; i < t.size(); ++i) {
    if (static_cast<size_t>(t[i].kind) != i) throw std::logic_error("hook point table out of order");
  }
  return t;
}

// '*' matches any run of characters.
bool glob_match(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == text[t]) {
      ++p, ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// Splits "blocks.12.attn.hook_z" into the pattern "blocks.{l}.attn.hook_z" and layer 12.
std::string to_pattern(std::string_view name, int& layer) {
  layer = -1;
  constexpr std::string_view prefix = "blocks.";
  if (name.substr(0, prefix.size()) != prefix) return std::string(name);
  size_t i = prefix.size();
  size_t start = i;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9') ++i;
  if (i == start || i - start > 6) return std::string(name);
  layer = std::stoi(std::string(name.substr(start, i - start)));
  return std::string(prefix) + "{l}" + std::string(name.substr(i));
}

}  // namespace

const std::vector<HookPointSpec>& hook_point_table() {
  static const std::vector<HookPointSpec> table = build_table();
  return table;
}

const HookPointSpec& hook_point_spec(HookKind kind) {
  return hook_point_table()[static_cast<size_t>(kind)];
}

bool hook_point_applies(const HookPointSpec& spec, const ModelConfig& c) {
  const bool norm = c.norm != NormKind::None;
  const bool mlp = c.mlp != MlpKind::None && c.d_mlp > 0;
  switch (spec.condition) {
    case C::Always: return true;
    case C::LearnedPositions:
      return c.positions == PositionKind::Learned || c.positions == PositionKind::LearnedQkOnly;
    case C::Rotary: return c.positions == PositionKind::Rotary;
    case C::Norm: return norm;
    case C::Mlp: return mlp;
    case C::NormAndMlp: return norm && mlp;
    case C::SequentialMlp: return mlp && !c.parallel_residual;
    case C::GatedMlp: return mlp && c.mlp == MlpKind::SwiGlu;
  }
  return false;
}

std::string hook_point_name(HookKind kind, int layer) {
  const HookPointSpec& spec = hook_point_spec(kind);
  std::string name = spec.pattern;
  if (spec.per_layer) {
    size_t at = name.find("{l}");
    name.replace(at, 3, std::to_string(layer));
  }
  return name;
}

std::vector<std::string> hook_point_names(const ModelConfig& config, bool include_opt_in) {
  std::vector<std::string> names;
  auto add = [&](const HookPointSpec& spec, int layer) {
    if (!hook_point_applies(spec, config) || (spec.opt_in && !include_opt_in)) return;
    names.push_back(hook_point_name(spec.kind, layer));
  };
  const auto& table = hook_point_table();
  // Forward order: model-level points before the blocks (embeddings), then the blocks layer by
  // layer, then the model-level points after them (final norm, logits).
  for (const auto& spec : table)
    if (!spec.per_layer && spec.kind < K::ResidPre) add(spec, -1);
  for (int l = 0; l < config.n_layers; ++l)
    for (const auto& spec : table)
      if (spec.per_layer) add(spec, l);
  for (const auto& spec : table)
    if (!spec.per_layer && spec.kind > K::ResidPost) add(spec, -1);
  return names;
}

std::int64_t dim_size(Dim dim, const ModelConfig& c, std::int64_t batch, std::int64_t seq) {
  switch (dim) {
    case D::Batch: return batch;
    case D::Pos:
    case D::QPos:
    case D::KPos: return seq;
    case D::Head: return c.n_heads;
    case D::KvHead: return c.n_kv_heads > 0 ? c.n_kv_heads : c.n_heads;
    case D::DModel: return c.d_model;
    case D::DHead: return c.d_head;
    case D::DMlp: return c.d_mlp;
    case D::DVocab: return c.d_vocab;
    case D::One: return 1;
  }
  return 0;
}

std::vector<std::int64_t> hook_point_shape(const HookPointSpec& spec, const ModelConfig& config,
                                           std::int64_t batch, std::int64_t seq) {
  std::vector<std::int64_t> shape;
  for (Dim d : spec.shape) shape.push_back(dim_size(d, config, batch, seq));
  return shape;
}

const char* dim_symbol(Dim dim) {
  switch (dim) {
    case D::Batch: return "batch";
    case D::Pos: return "pos";
    case D::QPos: return "q_pos";
    case D::KPos: return "k_pos";
    case D::Head: return "head";
    case D::KvHead: return "kv_head";
    case D::DModel: return "d_model";
    case D::DHead: return "d_head";
    case D::DMlp: return "d_mlp";
    case D::DVocab: return "d_vocab";
    case D::One: return "1";
  }
  return "?";
}

std::string shape_symbols(const HookPointSpec& spec) {
  std::string s = "[";
  for (size_t i = 0; i < spec.shape.size(); ++i) {
    if (i) s += ", ";
    s += dim_symbol(spec.shape[i]);
  }
  return s + "]";
}

int head_count(const HookPointSpec& spec, const ModelConfig& config) {
  if (spec.head_axis < 0) return 0;
  return static_cast<int>(dim_size(spec.shape[spec.head_axis], config, 0, 0));
}

HookPointLookup lookup_hook_point(std::string_view name, const ModelConfig& config) {
  HookPointLookup out;
  int layer = -1;
  const std::string pattern = to_pattern(name, layer);
  for (const auto& spec : hook_point_table()) {
    if (pattern != spec.pattern) continue;
    if (!hook_point_applies(spec, config)) {
      out.error = "hook point '" + std::string(name) + "' does not exist in this " +
                  family_name(config.family) + " model";
      break;
    }
    if (spec.per_layer && (layer < 0 || layer >= config.n_layers)) {
      out.error = "layer " + std::to_string(layer) + " out of range in '" + std::string(name) +
                  "': layers are 0.." + std::to_string(config.n_layers - 1);
      return out;
    }
    out.ref = HookPointRef{spec.kind, spec.per_layer ? layer : -1};
    return out;
  }
  // Unknown (or absent in this model): suggest the nearest valid name.
  size_t best = std::string_view::npos;
  for (const auto& candidate : hook_point_names(config, true)) {
    size_t d = edit_distance(name, candidate);
    if (d < best) best = d, out.suggestion = candidate;
  }
  if (out.error.empty()) out.error = "unknown hook point '" + std::string(name) + "'";
  if (!out.suggestion.empty()) out.error += "; did you mean '" + out.suggestion + "'?";
  return out;
}

HookPointRef resolve_hook_point(std::string_view name, const ModelConfig& config) {
  HookPointLookup found = lookup_hook_point(name, config);
  if (!found.ref) throw std::invalid_argument(found.error);
  return *found.ref;
}

std::vector<HookPointRef> match_hook_points(std::string_view pattern, const ModelConfig& config,
                                            bool include_opt_in) {
  const bool wildcard = pattern.find('*') != std::string_view::npos;
  if (!wildcard) return {resolve_hook_point(pattern, config)};
  std::vector<HookPointRef> refs;
  for (const auto& name : hook_point_names(config, true)) {
    if (!glob_match(pattern, name)) continue;
    HookPointRef ref = resolve_hook_point(name, config);
    const HookPointSpec& spec = hook_point_spec(ref.kind);
    if (spec.opt_in && !include_opt_in) {
      // An opt-in point matches only a pattern that spells its own name ("*.hook_result").
      std::string_view leaf = spec.pattern;
      leaf = leaf.substr(leaf.rfind('.') + 1);
      if (pattern.find(leaf) == std::string_view::npos) continue;
    }
    refs.push_back(ref);
  }
  return refs;
}

}  // namespace circuit::formats
