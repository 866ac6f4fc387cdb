#include "runtime/analysis/attribution_patching.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/analysis/analysis_runs.h"
#include "runtime/analysis/component_ids.h"
#include "runtime/exec/metric.h"
#include "runtime/exec/plan_tensors.h"
#include "runtime/hooks/hook_set.h"

namespace circuit::rt {

using formats::HookKind;

namespace {

HookPointRef node_hook(const ComponentId& id) {
  switch (id.kind) {
    case ComponentKind::Head: return {HookKind::Z, id.layer};
    case ComponentKind::Mlp: return {HookKind::MlpOut, id.layer};
    default: return {HookKind::Embed, -1};
  }
}

std::vector<ComponentId> scored_nodes(const AnalysisContext& context) {
  const auto& config = context.model.config();
  if (context.analysis.nodes.empty()) return all_heads(config);
  std::vector<ComponentId> out;
  for (const auto& name : context.analysis.nodes) {
    ComponentId id = parse_component(name, config, "analysis '" + context.analysis.name + "' nodes");
    if (id.kind == ComponentKind::Logits || id.input != HeadInput::None)
      throw analysis_error(context.analysis, "attribution patching scores heads, MLPs and the input, not '" + name + "'");
    out.push_back(id);
  }
  return out;
}

}  // namespace

AnalysisResult attribution_patching(const AnalysisContext& context) {
  const HookedModel& model = context.model;
  const auto& config = model.config();
  const plan::Analysis& analysis = context.analysis;
  const plan::Metric& metric = require_metric(context);
  const std::vector<ComponentId> nodes = scored_nodes(context);
  TokenBatch clean = clean_prompts(context);
  const LogitsAt logits_at = logits_for_metric(clean, metric);
  std::vector<HookPointRef> points;
  for (const ComponentId& id : nodes) {
    HookPointRef at = node_hook(id);
    bool seen = false;
    for (const auto& p : points) seen |= p.kind == at.kind && p.layer == at.layer;
    if (!seen) points.push_back(at);
  }
  auto name = [](HookPointRef at) { return formats::hook_point_name(at.kind, at.layer); };

  // The clean run, differentiated.
  HookSet hooks(config);
  for (const auto& at : points) {
    hooks.cache(at);
    hooks.request_gradient(at);
  }
  at::Tensor clean_logits;
  double clean_mean = 0.0;
  {
    at::AutoGradMode grad(true);
    clean_logits = model.forward(clean, &hooks, logits_at);
    at::Tensor m = run_metric(clean_logits, clean, metric, clean_logits.detach()).mean();
    clean_mean = m.item<double>();
    m.backward();
  }
  clean_logits = clean_logits.detach();

  // The activations it is patched towards.
  std::map<std::string, at::Tensor> target;
  std::optional<double> corrupt_mean;
  if (analysis.ablation == plan::Ablation::Patch) {
    TokenBatch corrupt = corrupt_prompts(context);
    HookSet cached(config);
    for (const auto& at : points) cached.cache(at);
    at::Tensor corrupt_logits = model.forward(corrupt, &cached, logits_at);
    corrupt_mean = run_metric(corrupt_logits, corrupt, metric, clean_logits).mean().item<double>();
    for (const auto& at : points) target[name(at)] = cached.cached(name(at));
  } else {
    for (const auto& at : points) {
      const at::Tensor& x = hooks.cached(name(at)).detach();
      target[name(at)] = analysis.ablation == plan::Ablation::Mean ? x.mean(0, true).expand_as(x) : at::zeros_like(x);
    }
  }
  step_done(context.options, 1, 1, analysis.name);

  at::Tensor mask = position_mask(clean, analysis.positions, analysis);
  const bool normalize = metric.normalize && corrupt_mean && clean_mean != *corrupt_mean;
  AnalysisResult result;
  result.name = analysis.name;
  result.kind = analysis.kind;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  at::Tensor heads = at::full({config.n_layers, config.n_heads}, nan, at::kDouble);
  at::Tensor mlps = at::full({config.n_layers}, nan, at::kDouble);
  bool any_head = false, any_mlp = false;
  for (const ComponentId& id : nodes) {
    const HookPointRef at = node_hook(id);
    const at::Tensor clean_x = hooks.cached(name(at)).detach().to(at::kFloat);
    at::Tensor grad = hooks.gradient(name(at)).to(at::kFloat);
    at::Tensor product = (target[name(at)].to(at::kFloat) - clean_x) * grad;  // [n, seq, ...]
    if (id.kind == ComponentKind::Head) product = product.select(2, id.head);
    at::Tensor where = mask.to(product.device()).to(at::kFloat).view({mask.size(0), mask.size(1), 1});
    double score = (product * where).sum().item<double>();
    if (normalize) score /= clean_mean - *corrupt_mean;
    result.nodes.names.push_back(component_name(id));
    result.nodes.values.push_back(score);
    if (id.kind == ComponentKind::Head) heads[id.layer][id.head] = score, any_head = true;
    if (id.kind == ComponentKind::Mlp) mlps[id.layer] = score, any_mlp = true;
  }
  if (any_head) result.tensors["scores"] = to_plan_tensor(heads);
  if (any_mlp) result.tensors["mlps"] = to_plan_tensor(mlps);
  result.values["clean"] = clean_mean;
  if (corrupt_mean) result.values["corrupt"] = *corrupt_mean;
  return result;
}

}  // namespace circuit::rt
