// Metrics of a pass's logits (logit difference, log-probability, probability, KL, accuracy),
// per row and differentiable, shared by the plan executor and every analysis that takes a
// gradient of a metric (attribution patching, EAP, EAP-IG). Part of the runtime's execute stage.
#pragma once

#include <cstdint>
#include <vector>

#include "compiler/plan/hook_plan.h"

namespace at {
class Tensor;
}

namespace circuit::rt {

struct TokenBatch;

// The metric for each row of a forward, [rows] float (unnormalized; see normalize_metric).
//  - logits: [rows, seq, d_vocab] over the padded batch, or [rows, 1, d_vocab] when only each
//    row's last token was unembedded (LogitsAt::Last); then `metric.position` must be the last.
//  - batch: the padded batch the logits come from (the cache batch for a resumed forward).
//  - batch_rows[t]: the batch row of logits row t (answers and per-row positions index batch
//    rows); empty means row t is batch row t.
//  - reference_logits: KL's reference run, [batch rows, ...] like `logits` (undefined otherwise).
//  - first_column: logits row entries cover padded columns [first_column, first_column + seq)
//    (a forward resumed at a column); ignored for LogitsAt::Last logits.
// Throws std::invalid_argument naming the metric for answers or positions out of range.
at::Tensor metric_per_row(const at::Tensor& logits, const TokenBatch& batch, const plan::Metric& metric,
                          const std::vector<std::int64_t>& batch_rows, const at::Tensor& reference_logits,
                          std::int64_t first_column = 0);

// (m - corrupt) / (clean - corrupt); m unchanged when clean == corrupt (and says so nowhere:
// the results layer shows both baselines).
double normalize_metric(double m, double clean, double corrupt);

}  // namespace circuit::rt
