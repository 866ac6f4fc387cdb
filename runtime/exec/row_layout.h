// RowLayout: where each row of a forward sits in its plan batch (the batch row it holds, its
// real tokens, the column of its first token), and the alignment of one run's activations onto
// another's rows by batch row and prompt position. Part of the runtime's execute stage: patching,
// freezing and ablating read sources through it.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace circuit::rt {

struct TokenBatch;

struct RowLayout {
  std::vector<std::int64_t> batch_rows;  // the plan batch row each row holds
  std::vector<std::int64_t> lengths;     // real tokens per row
  std::vector<std::int64_t> starts;      // padded column of each row's token 0
  std::int64_t seq = 0;                  // padded width

  // `full` is the whole plan batch, padded; `batch_rows` picks its rows (repeats allowed).
  static RowLayout of(const TokenBatch& full, const std::vector<std::int64_t>& batch_rows);
  std::int64_t rows() const { return static_cast<std::int64_t>(batch_rows.size()); }
  // The rows [first, first + count) of this layout.
  RowLayout slice(std::int64_t first, std::int64_t count) const;
  // The first row holding `batch_row`, or -1.
  std::int64_t row_holding(std::int64_t batch_row) const;
};

// An activation of a source run brought onto a forward's rows: `values` has the forward's rows
// and its columns [target.seq - width, target.seq) on `pos_axis`, the rest of the source's
// shape; `valid` ([rows, width] bool) marks the real tokens of the target that the source row
// has too (undefined when all have).
struct AlignedSource {
  at::Tensor values;
  at::Tensor valid;
};

// Row t of the result is the source's row picks[t], prompt position by prompt position, so
// sources padded differently or on the other side still line up token for token. Axes other
// than `pos_axis` are copied as they are (a pattern's key axis is not realigned).
AlignedSource align_source(const at::Tensor& source, const RowLayout& source_layout,
                           const std::vector<std::int64_t>& picks, const RowLayout& target,
                           int pos_axis, std::int64_t width);

// The mean over the source's rows at each prompt position, padding masked, as a one-row source
// [1, longest, ...] whose layout `mean_layout` returns; with `over_positions` the mean over
// every real token, [1, 1, ...] broadcast along positions by the caller.
at::Tensor mean_over_rows(const at::Tensor& source, const RowLayout& layout, int pos_axis,
                          bool over_positions);
RowLayout mean_layout(const RowLayout& source_layout);

}  // namespace circuit::rt
