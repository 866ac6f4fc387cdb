// Metrics read one position per row. The position is resolved per batch row (a plan's
// positions count within the prompt, or from its end), then mapped to the padded column the
// logits hold; a forward unembedded only at the last column (LogitsAt::Last) must be read there.
#include "runtime/exec/metric.h"

#include <ATen/ATen.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "runtime/model/token_batch.h"

namespace circuit::rt {
namespace {

std::invalid_argument metric_error(const plan::Metric& metric, const std::string& why) {
  return std::invalid_argument("metric '" + metric.name + "': " + why);
}

// The prompt-relative position the metric reads in batch row `row` (negative: from the end).
std::int64_t prompt_position(const plan::Metric& metric, const TokenBatch& batch, std::int64_t row) {
  const std::int64_t length = batch.lengths.at(row);
  std::int64_t at = -1;
  if (!metric.position.per_row.empty()) {
    if (row >= static_cast<std::int64_t>(metric.position.per_row.size()) || metric.position.per_row[row].empty())
      throw metric_error(metric, "no position for batch row " + std::to_string(row));
    at = metric.position.per_row[row][0];
  } else if (!metric.position.index.empty()) {
    at = metric.position.index[0];
  }
  if (at < 0) at += length;
  if (at < 0 || at >= length)
    throw metric_error(metric, "position out of range in batch row " + std::to_string(row) + " (" +
                                   std::to_string(length) + " tokens)");
  return at;
}

// Index into the logits' sequence axis for batch row `row`.
std::int64_t logits_index(const at::Tensor& logits, const TokenBatch& batch, const plan::Metric& metric,
                          std::int64_t row, std::int64_t first_column) {
  const std::int64_t column = batch.column(row, prompt_position(metric, batch, row));
  if (logits.size(1) == 1 && batch.seq() - first_column != 1) {
    if (column != batch.seq() - 1)
      throw metric_error(metric, "reads a position before the last, but only the last was unembedded");
    return 0;
  }
  if (column < first_column || column - first_column >= logits.size(1))
    throw metric_error(metric, "reads a position the forward did not compute");
  return column - first_column;
}

std::int64_t answer(const std::vector<std::int32_t>& ids, std::int64_t row, std::int64_t vocab,
                    const plan::Metric& metric, const char* what) {
  if (row >= static_cast<std::int64_t>(ids.size()))
    throw metric_error(metric, std::string("no ") + what + " for batch row " + std::to_string(row));
  const std::int64_t id = ids[row];
  if (id < 0 || id >= vocab)
    throw metric_error(metric, std::string(what) + " id " + std::to_string(id) + " outside the vocabulary");
  return id;
}

}  // namespace

at::Tensor metric_per_row(const at::Tensor& logits, const TokenBatch& batch, const plan::Metric& metric,
                          const std::vector<std::int64_t>& batch_rows, const at::Tensor& reference_logits,
                          std::int64_t first_column) {
  const std::int64_t rows = logits.size(0);
  const std::int64_t vocab = logits.size(2);
  if (!batch_rows.empty() && static_cast<std::int64_t>(batch_rows.size()) != rows)
    throw metric_error(metric, "row mapping does not match the logits");
  std::vector<std::int64_t> row_of(rows), at_index(rows);
  for (std::int64_t t = 0; t < rows; ++t) {
    row_of[t] = batch_rows.empty() ? t : batch_rows[t];
    if (row_of[t] < 0 || row_of[t] >= batch.batch()) throw metric_error(metric, "row outside the batch");
    at_index[t] = logits_index(logits, batch, metric, row_of[t], first_column);
  }
  const auto long_opts = at::TensorOptions().dtype(at::kLong).device(logits.device());
  at::Tensor row_index = at::arange(rows, long_opts);
  at::Tensor seq_index = at::tensor(at_index, at::kLong).to(logits.device());
  at::Tensor read = logits.index({row_index, seq_index}).to(at::kFloat);  // [rows, vocab]

  auto ids = [&](const std::vector<std::int32_t>& source, const char* what) {
    std::vector<std::int64_t> out(rows);
    for (std::int64_t t = 0; t < rows; ++t) out[t] = answer(source, row_of[t], vocab, metric, what);
    return at::tensor(out, at::kLong).to(logits.device()).unsqueeze(1);
  };

  switch (metric.kind) {
    case plan::MetricKind::LogitDiff:
      return (read.gather(1, ids(metric.answers, "answer")) - read.gather(1, ids(metric.wrong_answers, "wrong answer")))
          .squeeze(1);
    case plan::MetricKind::Logprob:
      return at::log_softmax(read, 1).gather(1, ids(metric.answers, "answer")).squeeze(1);
    case plan::MetricKind::Prob:
      return at::softmax(read, 1).gather(1, ids(metric.answers, "answer")).squeeze(1);
    case plan::MetricKind::Accuracy:
      return read.argmax(1).eq(ids(metric.answers, "answer").squeeze(1)).to(at::kFloat);
    case plan::MetricKind::Kl: {
      if (!reference_logits.defined()) throw metric_error(metric, "kl needs the reference run's logits");
      std::vector<std::int64_t> ref_rows(rows), ref_index(rows);
      for (std::int64_t t = 0; t < rows; ++t) {
        ref_rows[t] = row_of[t];
        ref_index[t] = logits_index(reference_logits, batch, metric, row_of[t], 0);
      }
      at::Tensor ref = reference_logits
                           .index({at::tensor(ref_rows, at::kLong).to(logits.device()),
                                   at::tensor(ref_index, at::kLong).to(logits.device())})
                           .to(at::kFloat);
      at::Tensor log_p_ref = at::log_softmax(ref, 1);
      at::Tensor log_p = at::log_softmax(read, 1);
      return (log_p_ref.exp() * (log_p_ref - log_p)).sum(1);
    }
  }
  throw metric_error(metric, "unknown metric kind");
}

double normalize_metric(double m, double clean, double corrupt) {
  const double span = clean - corrupt;
  if (span == 0.0 || !std::isfinite(span)) return m;
  return (m - corrupt) / span;
}

}  // namespace circuit::rt
