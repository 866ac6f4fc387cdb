// The attention detectors build one target mask [prompt, query, key] on the CPU from the token
// ids, then reduce every layer's cached pattern against it in one product.
#include "runtime/analysis/head_detectors.h"

#include <ATen/ATen.h>

#include "runtime/analysis/analysis_runs.h"
#include "runtime/analysis/component_ids.h"
#include "runtime/exec/plan_tensors.h"
#include "runtime/hooks/hook_set.h"
#include "runtime/model/hooked_model.h"
#include "runtime/model/model_weights.h"

namespace circuit::rt {
namespace {

enum class Behaviour { PreviousToken, Induction, DuplicateToken };

// The heads the result names: analysis.nodes (heads only) or every head.
std::vector<ComponentId> scored_heads(const AnalysisContext& context) {
  const auto& config = context.model.config();
  if (context.analysis.nodes.empty()) return all_heads(config);
  std::vector<ComponentId> heads;
  for (const auto& name : context.analysis.nodes) {
    ComponentId id = parse_component(name, config, "analysis '" + context.analysis.name + "' nodes");
    if (id.kind != ComponentKind::Head || id.input != HeadInput::None)
      throw analysis_error(context.analysis, "scores heads only, not '" + name + "'");
    heads.push_back(id);
  }
  return heads;
}

AnalysisResult head_result(const AnalysisContext& context, const at::Tensor& scores /* [L, H] */) {
  AnalysisResult result;
  result.name = context.analysis.name;
  result.kind = context.analysis.kind;
  at::Tensor s = scores.to(at::kCPU, at::kDouble).contiguous();
  for (const ComponentId& head : scored_heads(context)) {
    result.nodes.names.push_back(component_name(head));
    result.nodes.values.push_back(s[head.layer][head.head].item<double>());
  }
  result.tensors["scores"] = to_plan_tensor(scores);
  return result;
}

// 1 at (prompt, query column, key column) where the behaviour puts attention; `queries`
// counts the (prompt, query) pairs that have any target.
at::Tensor target_mask(const TokenBatch& batch, const at::Tensor& query_mask, Behaviour behaviour, std::int64_t& queries) {
  const std::int64_t n = batch.batch(), seq = batch.seq();
  at::Tensor target = at::zeros({n, seq, seq}, at::kFloat);
  auto t = target.accessor<float, 3>();
  at::Tensor tokens = batch.tokens.to(at::kCPU, at::kLong).contiguous();
  auto tok = tokens.accessor<std::int64_t, 2>();
  auto allowed = query_mask.accessor<bool, 2>();
  queries = 0;
  for (std::int64_t row = 0; row < n; ++row) {
    const std::int64_t length = batch.lengths[row];
    auto col = [&](std::int64_t i) { return batch.column(row, i); };
    for (std::int64_t i = 0; i < length; ++i) {
      const std::int64_t qi = col(i);
      if (!allowed[row][qi]) continue;
      bool any = false;
      auto mark = [&](std::int64_t j) {
        t[row][qi][col(j)] = 1.0f;
        any = true;
      };
      switch (behaviour) {
        case Behaviour::PreviousToken:
          if (i >= 1) mark(i - 1);
          break;
        case Behaviour::Induction:
          for (std::int64_t j = 1; j <= i; ++j)
            if (tok[row][col(j - 1)] == tok[row][qi]) mark(j);
          break;
        case Behaviour::DuplicateToken:
          for (std::int64_t j = 0; j < i; ++j)
            if (tok[row][col(j)] == tok[row][qi]) mark(j);
          break;
      }
      queries += any ? 1 : 0;
    }
  }
  return target;
}

AnalysisResult attention_score(const AnalysisContext& context, Behaviour behaviour) {
  const HookedModel& model = context.model;
  const auto& config = model.config();
  TokenBatch batch = clean_prompts(context);
  at::Tensor query_mask = position_mask(batch, context.analysis.positions, context.analysis);
  std::int64_t queries = 0;
  at::Tensor target = target_mask(batch, query_mask, behaviour, queries);
  if (queries == 0) {
    const char* why = behaviour == Behaviour::PreviousToken ? "no prompt has a query after its first token"
                                                            : "no token of the prompts occurs twice";
    throw analysis_error(context.analysis, why);
  }

  HookSet hooks(config);
  for (int l = 0; l < config.n_layers; ++l) hooks.cache({formats::HookKind::Pattern, l});
  model.forward(batch, &hooks, LogitsAt::Last);
  step_done(context.options, 1, 1, context.analysis.name);

  at::Tensor scores = at::zeros({config.n_layers, config.n_heads}, at::kFloat);
  for (int l = 0; l < config.n_layers; ++l) {
    const at::Tensor& pattern = hooks.cached(formats::hook_point_name(formats::HookKind::Pattern, l));
    at::Tensor on_target = target.to(pattern.device()).unsqueeze(1);  // [n, 1, q, k]
    scores[l] = (pattern.to(at::kFloat) * on_target).sum(at::IntArrayRef{0, 2, 3}).to(at::kCPU) / static_cast<double>(queries);
  }
  AnalysisResult result = head_result(context, scores);
  result.values["queries"] = static_cast<double>(queries);
  return result;
}

}  // namespace

AnalysisResult previous_token_score(const AnalysisContext& context) {
  return attention_score(context, Behaviour::PreviousToken);
}

AnalysisResult induction_score(const AnalysisContext& context) {
  return attention_score(context, Behaviour::Induction);
}

AnalysisResult duplicate_token_score(const AnalysisContext& context) {
  return attention_score(context, Behaviour::DuplicateToken);
}

AnalysisResult copying_score(const AnalysisContext& context) {
  const auto& config = context.model.config();
  const ModelWeights& w = context.model.weights();
  const auto cpu = at::TensorOptions().dtype(at::kDouble).device(at::kCPU);
  const std::int64_t H = config.n_heads, KV = config.n_kv_heads > 0 ? config.n_kv_heads : config.n_heads;
  const std::int64_t dh = config.d_head;
  // W_U W_E in the runtime's layout: unembed [vocab, d] and embed [vocab, d] -> [d, d].
  at::Tensor unembed_embed = w.unembed_w.to(cpu).t().mm(w.embed.to(cpu));
  at::Tensor scores = at::zeros({config.n_layers, H}, at::kFloat);
  for (int l = 0; l < config.n_layers; ++l) {
    const LayerWeights& layer = w.layers[l];
    at::Tensor qkv = layer.qkv_w.to(cpu);  // [(H + 2 KV) dh, d]
    at::Tensor o = layer.o_w.to(cpu);      // [d, H dh]
    for (std::int64_t h = 0; h < H; ++h) {
      const std::int64_t kv = h / (H / KV);
      at::Tensor v_rows = qkv.narrow(0, (H + KV) * dh + kv * dh, dh);  // W_V^T [dh, d]
      at::Tensor o_cols = o.narrow(1, h * dh, dh);                      // W_O^T [d, dh]
      at::Tensor small = o_cols.t().mm(unembed_embed).mm(v_rows.t());   // W_O W_U W_E W_V
      at::Tensor eig = at::linalg_eigvals(small);
      const double total = at::abs(eig).sum().item<double>();
      scores[l][h] = total > 0 ? at::real(eig).sum().item<double>() / total : 0.0;
    }
  }
  step_done(context.options, 1, 1, context.analysis.name);
  return head_result(context, scores);
}

}  // namespace circuit::rt
