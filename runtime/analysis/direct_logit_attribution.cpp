#include "runtime/analysis/direct_logit_attribution.h"

#include <ATen/ATen.h>

#include "runtime/analysis/analysis_runs.h"
#include "runtime/analysis/component_ids.h"
#include "runtime/analysis/final_norm.h"
#include "runtime/exec/plan_tensors.h"
#include "runtime/hooks/hook_set.h"
#include "runtime/model/model_weights.h"

namespace circuit::rt {

using formats::HookKind;

namespace {

at::Tensor answer_ids(const AnalysisContext& context, const std::vector<std::int32_t>& ids, std::int64_t rows,
                      const char* what) {
  const auto& a = context.analysis;
  if (static_cast<std::int64_t>(ids.size()) < rows)
    throw analysis_error(a, std::string("the metric has ") + std::to_string(ids.size()) + " " + what + "s for " +
                                std::to_string(rows) + " prompts");
  std::vector<std::int64_t> out(ids.begin(), ids.begin() + rows);
  for (std::int64_t id : out)
    if (id < 0 || id >= context.model.config().d_vocab)
      throw analysis_error(a, std::string(what) + " id " + std::to_string(id) + " outside the vocabulary");
  return at::tensor(out, at::kLong);
}

}  // namespace

AnalysisResult direct_logit_attribution(const AnalysisContext& context) {
  const HookedModel& model = context.model;
  const auto& config = model.config();
  const plan::Analysis& analysis = context.analysis;
  const plan::Metric& metric = require_metric(context);
  if (metric.kind == plan::MetricKind::Kl)
    throw analysis_error(analysis, "direct logit attribution needs an answer token, and kl has none");
  TokenBatch batch = clean_prompts(context);
  const std::int64_t n = batch.batch();
  const std::vector<std::int64_t> columns = metric_columns(batch, metric);
  at::Tensor answer = answer_ids(context, metric.answers, n, "answer");
  at::Tensor wrong;
  if (metric.kind == plan::MetricKind::LogitDiff) wrong = answer_ids(context, metric.wrong_answers, n, "wrong answer");

  const bool has_mlp = config.mlp != formats::MlpKind::None && config.d_mlp > 0;
  const bool has_norm = config.norm != formats::NormKind::None;
  const bool learned_positions = config.positions == formats::PositionKind::Learned;
  HookSet hooks(config);
  for (int l = 0; l < config.n_layers; ++l) {
    hooks.cache({HookKind::Result, l});
    if (has_mlp) hooks.cache({HookKind::MlpOut, l});
  }
  hooks.cache({HookKind::Embed, -1});
  if (learned_positions) hooks.cache({HookKind::PosEmbed, -1});
  if (has_norm) hooks.cache({HookKind::LnFinalScale, -1});
  const LogitsAt logits_at = logits_for_metric(batch, metric);
  at::Tensor logits = model.forward(batch, &hooks, logits_at);
  const auto device = logits.device();

  at::Tensor rows = at::arange(n, at::TensorOptions().dtype(at::kLong).device(device));
  at::Tensor cols = at::tensor(columns, at::kLong).to(device);
  auto at_metric = [&](const at::Tensor& x) { return x.index({rows, x.size(1) == 1 ? at::zeros_like(cols) : cols}); };
  auto name = [](HookKind kind, int layer) { return formats::hook_point_name(kind, layer); };

  at::Tensor direction = logit_direction(model, answer.to(device), wrong.defined() ? wrong.to(device) : wrong);  // [n, d]
  at::Tensor scale = has_norm ? at_metric(hooks.cached(name(HookKind::LnFinalScale, -1)))  // [n, 1]
                              : at::ones({n, 1}, at::TensorOptions().dtype(at::kFloat).device(device));
  // x [n, ..., d]: its direct effect on the logit (difference) per prompt, [n, ...].
  auto contribution = [&](const at::Tensor& x) {
    std::vector<std::int64_t> shape(x.dim(), 1);
    shape[0] = n;
    std::vector<std::int64_t> scale_shape = shape;
    shape.back() = config.d_model;
    return (frozen_norm(model, x, scale.view(scale_shape)) * direction.view(shape)).sum(-1);
  };

  at::Tensor heads = at::zeros({n, config.n_layers, config.n_heads}, at::TensorOptions().dtype(at::kFloat).device(device));
  at::Tensor mlps = at::zeros({n, config.n_layers}, heads.options());
  at::Tensor bias = logit_bias(model, answer.to(device), wrong.defined() ? wrong.to(device) : wrong);
  const ModelWeights& w = model.weights();
  for (int l = 0; l < config.n_layers; ++l) {
    heads.select(1, l).copy_(contribution(at_metric(hooks.cached(name(HookKind::Result, l)))));
    if (has_mlp) mlps.select(1, l).copy_(contribution(at_metric(hooks.cached(name(HookKind::MlpOut, l)))));
    if (w.layers[l].o_b.defined()) bias = bias + contribution(w.layers[l].o_b.view({1, -1}).expand({n, -1}));
  }
  at::Tensor embedded = at_metric(hooks.cached(name(HookKind::Embed, -1)));
  if (learned_positions) embedded = embedded + at_metric(hooks.cached(name(HookKind::PosEmbed, -1)));
  at::Tensor input = contribution(embedded);

  at::Tensor read = at_metric(logits).to(at::kFloat);  // [n, d_vocab]
  at::Tensor logit = read.gather(1, answer.to(device).unsqueeze(1)).squeeze(1);
  if (wrong.defined()) logit = logit - read.gather(1, wrong.to(device).unsqueeze(1)).squeeze(1);

  at::Tensor head_means = heads.mean(0).to(at::kCPU, at::kDouble);
  at::Tensor mlp_means = mlps.mean(0).to(at::kCPU, at::kDouble);
  AnalysisResult result;
  result.name = analysis.name;
  result.kind = analysis.kind;
  result.tensors["heads"] = to_plan_tensor(head_means);
  if (has_mlp) result.tensors["mlps"] = to_plan_tensor(mlp_means);
  result.values["input"] = input.mean().item<double>();
  result.values["bias"] = bias.mean().item<double>();
  result.values["logit"] = logit.mean().item<double>();

  std::vector<ComponentId> nodes;
  if (analysis.nodes.empty()) {
    nodes.push_back(ComponentId{});
    for (int l = 0; l < config.n_layers; ++l) {
      for (int h = 0; h < config.n_heads; ++h) nodes.push_back({ComponentKind::Head, l, h, HeadInput::None});
      if (has_mlp) nodes.push_back({ComponentKind::Mlp, l, -1, HeadInput::None});
    }
  } else {
    for (const auto& node : analysis.nodes) {
      ComponentId id = parse_component(node, config, "analysis '" + analysis.name + "' nodes");
      if (id.kind == ComponentKind::Logits || id.input != HeadInput::None)
        throw analysis_error(analysis, "'" + node + "' writes nothing into the residual stream");
      nodes.push_back(id);
    }
  }
  for (const ComponentId& id : nodes) {
    result.nodes.names.push_back(component_name(id));
    switch (id.kind) {
      case ComponentKind::Head: result.nodes.values.push_back(head_means[id.layer][id.head].item<double>()); break;
      case ComponentKind::Mlp: result.nodes.values.push_back(mlp_means[id.layer].item<double>()); break;
      default: result.nodes.values.push_back(result.values["input"]); break;
    }
  }
  step_done(context.options, 1, 1, analysis.name);
  return result;
}

}  // namespace circuit::rt
