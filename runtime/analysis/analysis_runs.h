// Shared steps of the per-node analyses (detectors, logit lens, DLA, path and attribution
// patching): the clean and corrupt prompts as padded batches, a run's metric per row, the
// padded column each row's metric reads, masks of the positions an analysis intervenes at, and
// batches repeated along the batch axis for stacked forwards. Part of the runtime's analysis stage.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/analysis/analysis_context.h"
#include "runtime/model/hooked_model.h"
#include "runtime/model/token_batch.h"

namespace circuit::rt {

// "analysis 'name': why" (std::invalid_argument, one line).
std::invalid_argument analysis_error(const plan::Analysis& analysis, const std::string& why);

TokenBatch clean_prompts(const AnalysisContext& context);
// The corrupt prompts, which must pair row by row with the clean ones and pad to the same
// length (patching copies activations column by column). Throws when there are none.
TokenBatch corrupt_prompts(const AnalysisContext& context);
// The corrupt prompts when the analysis names them (checked as above); null when it does not
// and its ablation needs none (Mean, Zero). Throws for Patch without corrupt prompts.
std::unique_ptr<TokenBatch> corrupt_prompts_if_any(const AnalysisContext& context);

// The analysis's metric; throws naming the analysis when it has none.
const plan::Metric& require_metric(const AnalysisContext& context);

// The padded column that each batch row's metric reads.
std::vector<std::int64_t> metric_columns(const TokenBatch& batch, const plan::Metric& metric);
// LogitsAt::Last when every row reads its last padded column (the unembedding then runs once
// per row), else LogitsAt::All.
LogitsAt logits_for_metric(const TokenBatch& batch, const plan::Metric& metric);

// metric_per_row for a forward over `batch` repeated along the batch axis (row t is batch row
// t mod batch.batch()); `reference` is the clean run's logits for KL (undefined otherwise).
at::Tensor run_metric(const at::Tensor& logits, const TokenBatch& batch, const plan::Metric& metric,
                      const at::Tensor& reference);

// Logits `read` [rows, d_vocab] computed only at each row's metric column, laid out as
// metric_per_row expects: [rows, 1, d_vocab] when every column is the last, else
// [rows, seq, d_vocab] with zeros elsewhere.
at::Tensor place_at_columns(const at::Tensor& read, const TokenBatch& batch,
                            const std::vector<std::int64_t>& columns);

// [batch, seq] bool: the real tokens of each row at `positions` (prompt-relative, negative from
// the end; per-row lists win); every real token when `positions` is empty. Out-of-range
// positions are an error naming the analysis.
at::Tensor position_mask(const TokenBatch& batch, const plan::Positions& positions,
                         const plan::Analysis& analysis);

// `batch` repeated `times` along the batch axis (stacked forwards of a sweep).
TokenBatch repeat_batch(const TokenBatch& batch, std::int64_t times);

// How many copies of a `rows`-row batch fit one forward under the options' memory budget
// (at least 1), from a rough count of the activations a forward holds per token.
std::int64_t copies_per_forward(const HookedModel& model, const TokenBatch& batch, const ExecutionOptions& options);

// Reports progress when the options ask for it and throws ExecutionCancelled when cancelled.
void step_done(const ExecutionOptions& options, std::int64_t done, std::int64_t total, const std::string& what);

}  // namespace circuit::rt
