#include "runtime/analysis/analysis_runs.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <limits>

#include "runtime/exec/metric.h"
#include "runtime/exec/plan_tensors.h"

namespace circuit::rt {

std::invalid_argument analysis_error(const plan::Analysis& analysis, const std::string& why) {
  return std::invalid_argument("analysis '" + analysis.name + "': " + why);
}

TokenBatch clean_prompts(const AnalysisContext& context) {
  try {
    return to_token_batch(context.clean, context.model.config());
  } catch (const std::invalid_argument& e) {
    throw analysis_error(context.analysis, e.what());
  }
}

TokenBatch corrupt_prompts(const AnalysisContext& context) {
  const plan::Analysis& a = context.analysis;
  if (!context.corrupt) throw analysis_error(a, "needs corrupt prompts, and the task has none");
  const plan::TokenBatch& clean = context.clean;
  const plan::TokenBatch& corrupt = *context.corrupt;
  if (corrupt.rows.size() != clean.rows.size())
    throw analysis_error(a, "corrupt batch '" + corrupt.name + "' has " + std::to_string(corrupt.rows.size()) +
                                " prompts, the clean batch '" + clean.name + "' " + std::to_string(clean.rows.size()));
  for (size_t r = 0; r < clean.rows.size(); ++r) {
    if (corrupt.rows[r].size() != clean.rows[r].size())
      throw analysis_error(a, "corrupt prompt " + std::to_string(r) + " has " + std::to_string(corrupt.rows[r].size()) +
                                  " tokens, its clean prompt " + std::to_string(clean.rows[r].size()) +
                                  " (patching needs equal lengths)");
  }
  plan::TokenBatch same_side = corrupt;
  same_side.pad_side = clean.pad_side;
  try {
    return to_token_batch(same_side, context.model.config());
  } catch (const std::invalid_argument& e) {
    throw analysis_error(a, e.what());
  }
}

std::unique_ptr<TokenBatch> corrupt_prompts_if_any(const AnalysisContext& context) {
  if (!context.corrupt) {
    if (context.analysis.ablation != plan::Ablation::Patch) return nullptr;
    throw analysis_error(context.analysis,
                         "patch ablation needs corrupt prompts, and the task has none; use mean or zero ablation");
  }
  return std::make_unique<TokenBatch>(corrupt_prompts(context));
}

const plan::Metric& require_metric(const AnalysisContext& context) {
  if (!context.analysis.metric) throw analysis_error(context.analysis, "needs a metric");
  return *context.analysis.metric;
}

std::vector<std::int64_t> metric_columns(const TokenBatch& batch, const plan::Metric& metric) {
  std::vector<std::int64_t> columns(batch.batch());
  for (std::int64_t row = 0; row < batch.batch(); ++row) {
    const std::int64_t length = batch.lengths.at(row);
    std::int64_t at = -1;
    if (!metric.position.per_row.empty()) {
      if (row >= static_cast<std::int64_t>(metric.position.per_row.size()) || metric.position.per_row[row].empty())
        throw std::invalid_argument("metric '" + metric.name + "': no position for batch row " + std::to_string(row));
      at = metric.position.per_row[row][0];
    } else if (!metric.position.index.empty()) {
      at = metric.position.index[0];
    }
    if (at < 0) at += length;
    if (at < 0 || at >= length)
      throw std::invalid_argument("metric '" + metric.name + "': position out of range in batch row " +
                                  std::to_string(row) + " (" + std::to_string(length) + " tokens)");
    columns[row] = batch.column(row, at);
  }
  return columns;
}

LogitsAt logits_for_metric(const TokenBatch& batch, const plan::Metric& metric) {
  for (std::int64_t c : metric_columns(batch, metric))
    if (c != batch.seq() - 1) return LogitsAt::All;
  return LogitsAt::Last;
}

at::Tensor run_metric(const at::Tensor& logits, const TokenBatch& batch, const plan::Metric& metric,
                      const at::Tensor& reference) {
  std::vector<std::int64_t> rows;
  if (logits.size(0) != batch.batch()) {
    rows.resize(logits.size(0));
    for (std::int64_t t = 0; t < logits.size(0); ++t) rows[t] = t % batch.batch();
  }
  return metric_per_row(logits, batch, metric, rows,
                        metric.kind == plan::MetricKind::Kl ? reference : at::Tensor());
}

at::Tensor place_at_columns(const at::Tensor& read, const TokenBatch& batch, const std::vector<std::int64_t>& columns) {
  const bool all_last = std::all_of(columns.begin(), columns.end(), [&](std::int64_t c) { return c == batch.seq() - 1; });
  if (all_last) return read.unsqueeze(1);
  at::Tensor out = at::zeros({read.size(0), batch.seq(), read.size(1)}, read.options());
  at::Tensor rows = at::arange(read.size(0), at::TensorOptions().dtype(at::kLong).device(read.device()));
  at::Tensor cols = at::tensor(columns, at::kLong).to(read.device());
  return out.index_put({rows, cols}, read);
}

at::Tensor position_mask(const TokenBatch& batch, const plan::Positions& positions, const plan::Analysis& analysis) {
  if (positions.all()) {
    return batch.padded() ? batch.attention_mask.to(at::kBool).clone()
                          : at::ones({batch.batch(), batch.seq()}, at::kBool);
  }
  at::Tensor mask = at::zeros({batch.batch(), batch.seq()}, at::kBool);
  auto m = mask.accessor<bool, 2>();
  for (std::int64_t row = 0; row < batch.batch(); ++row) {
    const std::vector<int>* list = &positions.index;
    if (!positions.per_row.empty()) {
      if (row >= static_cast<std::int64_t>(positions.per_row.size()))
        throw analysis_error(analysis, "no positions for batch row " + std::to_string(row));
      list = &positions.per_row[row];
    }
    const std::int64_t length = batch.lengths.at(row);
    for (int p : *list) {
      const std::int64_t at = p < 0 ? p + length : p;
      if (at < 0 || at >= length)
        throw analysis_error(analysis, "position " + std::to_string(p) + " outside batch row " +
                                           std::to_string(row) + " (" + std::to_string(length) + " tokens)");
      m[row][batch.column(row, at)] = true;
    }
  }
  return mask;
}

TokenBatch repeat_batch(const TokenBatch& batch, std::int64_t times) {
  if (times == 1) return batch;
  TokenBatch out;
  out.side = batch.side;
  out.tokens = batch.tokens.repeat({times, 1});
  out.positions = batch.positions.repeat({times, 1});
  if (batch.padded()) out.attention_mask = batch.attention_mask.repeat({times, 1});
  for (std::int64_t t = 0; t < times; ++t) out.lengths.insert(out.lengths.end(), batch.lengths.begin(), batch.lengths.end());
  return out;
}

std::int64_t copies_per_forward(const HookedModel& model, const TokenBatch& batch, const ExecutionOptions& options) {
  if (options.memory_budget_bytes <= 0) return std::numeric_limits<std::int64_t>::max() / 4;
  const auto& c = model.config();
  const std::int64_t element = model.dtype_name() == "f32" ? 4 : 2;
  // Residual-stream-sized tensors, q/k/v/z, the MLP's hidden layer and the attention scores,
  // per token and layer, plus the per-head inputs that path patching materializes.
  const std::int64_t per_token = std::int64_t{c.n_layers} *
                                 (12 * std::int64_t{c.d_model} + 5 * std::int64_t{c.n_heads} * c.d_head +
                                  3 * std::int64_t{c.d_mlp} + 2 * std::int64_t{c.n_heads} * batch.seq()) *
                                 element;
  const std::int64_t per_copy = std::max<std::int64_t>(1, per_token * batch.batch() * batch.seq());
  return std::max<std::int64_t>(1, options.memory_budget_bytes / per_copy);
}

void step_done(const ExecutionOptions& options, std::int64_t done, std::int64_t total, const std::string& what) {
  if (options.progress) options.progress(done, total, what);
  if (options.cancel && options.cancel->load()) throw ExecutionCancelled();
}

}  // namespace circuit::rt
