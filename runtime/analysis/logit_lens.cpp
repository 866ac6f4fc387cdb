// The lens unembeds the one position per prompt that the metric reads (metric_per_row then sees
// those logits laid out as a forward's: analysis_runs.h, place_at_columns), and every real
// position of the prompts that fit the per-position grid, a chunk of positions at a time.
#include "runtime/analysis/logit_lens.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "runtime/analysis/analysis_runs.h"
#include "runtime/analysis/final_norm.h"
#include "runtime/exec/metric.h"
#include "runtime/exec/plan_tensors.h"
#include "runtime/hooks/hook_set.h"

namespace circuit::rt {

using formats::HookKind;

namespace {

// The logits one unembedding of the per-position lens holds at once (16 MiB of float32).
constexpr std::int64_t kMaxChunkLogits = std::int64_t{1} << 22;

// Where the per-position lens reads and writes: the real tokens of the first `rows` prompts,
// each at (source_rows, source_cols) in the padded batch and at `targets` = r * width + i in the
// left-aligned [rows, width] grid of one layer.
struct PositionGrid {
  std::int64_t rows = 0;
  std::int64_t width = 0;
  at::Tensor source_rows, source_cols;  // [entries] int64, on the model's device
  at::Tensor targets;                   // [entries] int64, CPU
};

PositionGrid position_grid(const TokenBatch& batch, int n_layers, const c10::Device& device) {
  PositionGrid grid;
  grid.rows = lens_grid_prompts(batch.lengths, n_layers);
  for (std::int64_t r = 0; r < grid.rows; ++r) grid.width = std::max(grid.width, batch.lengths[r]);
  std::vector<std::int64_t> rows, cols, targets;
  for (std::int64_t r = 0; r < grid.rows; ++r) {
    for (std::int64_t i = 0; i < batch.lengths[r]; ++i) {
      rows.push_back(r);
      cols.push_back(batch.column(r, i));
      targets.push_back(r * grid.width + i);
    }
  }
  grid.source_rows = at::tensor(rows, at::kLong).to(device);
  grid.source_cols = at::tensor(cols, at::kLong).to(device);
  grid.targets = at::tensor(targets, at::kLong);
  return grid;
}

// One layer of the per-position lens: `resid` [batch, seq, d_model] through the final norm and
// the unembedding at the grid's positions, the argmax and its probability written into `tokens`
// and `probs` (views of [rows * width] float32 CPU rows: written in place).
void top_tokens_at(const HookedModel& model, const at::Tensor& resid, const PositionGrid& grid, at::Tensor tokens,
                   at::Tensor probs) {
  const at::Tensor picked = resid.index({grid.source_rows, grid.source_cols});  // [entries, d_model]
  const std::int64_t entries = picked.size(0);
  const std::int64_t chunk = std::max<std::int64_t>(1, kMaxChunkLogits / model.config().d_vocab);
  for (std::int64_t start = 0; start < entries; start += chunk) {
    const std::int64_t count = std::min(chunk, entries - start);
    at::Tensor logits = unembed(model, final_norm(model, picked.narrow(0, start, count))).to(at::kFloat);
    auto [top, id] = logits.max(-1);
    at::Tensor p = at::exp(top - at::logsumexp(logits, -1));
    const at::Tensor at_cells = grid.targets.narrow(0, start, count);
    tokens.index_put_({at_cells}, id.to(at::kCPU, at::kFloat));
    probs.index_put_({at_cells}, p.to(at::kCPU));
  }
}

}  // namespace

std::int64_t lens_grid_prompts(const std::vector<std::int64_t>& lengths, int n_layers, std::int64_t max_cells) {
  std::int64_t width = 0;
  for (std::size_t r = 0; r < lengths.size(); ++r) {
    width = std::max(width, lengths[r]);
    if (static_cast<std::int64_t>(r + 1) * width * n_layers > max_cells) return static_cast<std::int64_t>(r);
  }
  return static_cast<std::int64_t>(lengths.size());
}

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
  const PositionGrid grid = position_grid(batch, config.n_layers, device);
  const std::int64_t cells = grid.rows * grid.width;
  at::Tensor top_tokens = at::full({config.n_layers, cells}, -1.0f, at::kFloat);
  at::Tensor top_probs = at::full({config.n_layers, cells}, std::numeric_limits<float>::quiet_NaN(), at::kFloat);
  for (int l = 0; l < config.n_layers; ++l) {
    const at::Tensor& resid = hooks.cached(formats::hook_point_name(HookKind::ResidPost, l));
    at::Tensor read = unembed(model, final_norm(model, resid.index({rows, cols})));  // [n, d_vocab]
    if (keep_logits) lens_logits.push_back(read.to(at::kCPU, at::kFloat));
    if (grid.rows > 0) top_tokens_at(model, resid, grid, top_tokens[l], top_probs[l]);
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
  if (grid.rows > 0) {
    result.tensors["top_tokens"] = to_plan_tensor(top_tokens.view({config.n_layers, grid.rows, grid.width}));
    result.tensors["top_probs"] = to_plan_tensor(top_probs.view({config.n_layers, grid.rows, grid.width}));
  }
  return result;
}

}  // namespace circuit::rt
