// The lens unembeds only the one position per prompt that the metric reads; metric_per_row then
// sees those logits laid out as a forward's (analysis_runs.h: place_at_columns).
#include "runtime/analysis/logit_lens.h"

#include <ATen/ATen.h>

#include "runtime/analysis/analysis_runs.h"
#include "runtime/analysis/final_norm.h"
#include "runtime/exec/metric.h"
#include "runtime/exec/plan_tensors.h"
#include "runtime/hooks/hook_set.h"

namespace circuit::rt {

using formats::HookKind;

AnalysisResult logit_lens(const AnalysisContext& context) {
  const HookedModel& model = context.model;
  const auto& config = model.config();
  const plan::Analysis& analysis = context.analysis;
  const plan::Metric* metric = analysis.metric ? &*analysis.metric : nullptr;
  TokenBatch batch = clean_prompts(context);
  const std::int64_t n = batch.batch();

  std::vector<std::int64_t> columns(n);
  if (metric) {
    columns = metric_columns(batch, *metric);
  } else {
    for (std::int64_t r = 0; r < n; ++r) columns[r] = batch.column(r, batch.lengths[r] - 1);
  }
  HookSet hooks(config);
  for (int l = 0; l < config.n_layers; ++l) hooks.cache({HookKind::ResidPost, l});
  const LogitsAt logits_at = metric ? logits_for_metric(batch, *metric) : LogitsAt::Last;
  at::Tensor model_logits = model.forward(batch, &hooks, logits_at);

  AnalysisResult result;
  result.name = analysis.name;
  result.kind = analysis.kind;
  double model_mean = 0.0, corrupt_mean = 0.0;
  bool normalize = false;
  if (metric) {
    model_mean = run_metric(model_logits, batch, *metric, model_logits).mean().item<double>();
    result.values["model"] = model_mean;
    if (metric->normalize && context.corrupt) {
      TokenBatch corrupt = corrupt_prompts(context);
      at::Tensor corrupt_logits = model.forward(corrupt, nullptr, logits_for_metric(corrupt, *metric));
      corrupt_mean = run_metric(corrupt_logits, corrupt, *metric, model_logits).mean().item<double>();
      result.values["corrupt"] = corrupt_mean;
      normalize = true;
    }
  }

  const auto device = model_logits.device();
  at::Tensor rows = at::arange(n, at::TensorOptions().dtype(at::kLong).device(device));
  at::Tensor cols = at::tensor(columns, at::kLong).to(device);
  const bool keep_logits = std::int64_t{config.n_layers} * n * config.d_vocab <= (std::int64_t{1} << 22);
  std::vector<at::Tensor> lens_logits;
  at::Tensor per_layer = at::zeros({config.n_layers}, at::kDouble);
  at::Tensor per_row = at::zeros({config.n_layers, n}, at::kFloat);
  for (int l = 0; l < config.n_layers; ++l) {
    const at::Tensor& resid = hooks.cached(formats::hook_point_name(HookKind::ResidPost, l));
    at::Tensor read = unembed(model, final_norm(model, resid.index({rows, cols})));  // [n, d_vocab]
    if (keep_logits) lens_logits.push_back(read.to(at::kCPU, at::kFloat));
    if (metric) {
      at::Tensor m = run_metric(place_at_columns(read, batch, columns), batch, *metric, model_logits);
      per_row[l] = m.to(at::kCPU, at::kFloat);
      const double mean = m.mean().item<double>();
      per_layer[l] = normalize ? normalize_metric(mean, model_mean, corrupt_mean) : mean;
    }
    step_done(context.options, l + 1, config.n_layers, analysis.name);
  }
  if (metric) {
    result.tensors["metric"] = to_plan_tensor(per_layer);
    result.tensors["metric_per_row"] = to_plan_tensor(per_row);
  }
  if (keep_logits) result.tensors["logits"] = to_plan_tensor(at::stack(lens_logits));
  return result;
}

}  // namespace circuit::rt
