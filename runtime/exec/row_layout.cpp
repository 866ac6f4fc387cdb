// Alignment works on the position axis moved to dim 1 ([rows, pos, ...]); a gather along it
// maps each target column to the source column of the same prompt position.
#include "runtime/exec/row_layout.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <stdexcept>

#include "runtime/model/token_batch.h"

namespace circuit::rt {

RowLayout RowLayout::of(const TokenBatch& full, const std::vector<std::int64_t>& batch_rows) {
  RowLayout out;
  out.batch_rows = batch_rows;
  out.seq = full.seq();
  for (std::int64_t b : batch_rows) {
    out.lengths.push_back(full.lengths.at(b));
    out.starts.push_back(full.column(b, 0));
  }
  return out;
}

RowLayout RowLayout::slice(std::int64_t first, std::int64_t count) const {
  RowLayout out;
  out.seq = seq;
  out.batch_rows.assign(batch_rows.begin() + first, batch_rows.begin() + first + count);
  out.lengths.assign(lengths.begin() + first, lengths.begin() + first + count);
  out.starts.assign(starts.begin() + first, starts.begin() + first + count);
  return out;
}

std::int64_t RowLayout::row_holding(std::int64_t batch_row) const {
  auto it = std::find(batch_rows.begin(), batch_rows.end(), batch_row);
  return it == batch_rows.end() ? -1 : static_cast<std::int64_t>(it - batch_rows.begin());
}

AlignedSource align_source(const at::Tensor& source, const RowLayout& source_layout,
                           const std::vector<std::int64_t>& picks, const RowLayout& target,
                           int pos_axis, std::int64_t width) {
  const std::int64_t n = target.rows();
  if (static_cast<std::int64_t>(picks.size()) != n) throw std::logic_error("align_source: one pick per row");
  at::Tensor by_pos = source.movedim(pos_axis, 1);
  const std::int64_t source_seq = by_pos.size(1);
  at::Tensor rows = by_pos.index_select(0, at::tensor(picks, at::kLong).to(source.device()));
  const std::int64_t offset = target.seq - width;

  bool same_columns = source_seq == target.seq;
  bool all_valid = true;
  for (std::int64_t t = 0; t < n; ++t) {
    same_columns = same_columns && source_layout.starts[picks[t]] == target.starts[t];
    all_valid = all_valid && target.lengths[t] <= source_layout.lengths[picks[t]];
  }
  AlignedSource out;
  if (same_columns) {
    out.values = rows.narrow(1, offset, width);
  } else {
    std::vector<std::int64_t> index(n * width);
    for (std::int64_t t = 0; t < n; ++t) {
      for (std::int64_t c = 0; c < width; ++c) {
        const std::int64_t i = offset + c - target.starts[t];  // prompt position in the target
        index[t * width + c] = std::clamp<std::int64_t>(source_layout.starts[picks[t]] + i, 0, source_seq - 1);
      }
    }
    std::vector<std::int64_t> view(rows.dim(), 1);
    view[0] = n;
    view[1] = width;
    std::vector<std::int64_t> expand(rows.sizes().begin(), rows.sizes().end());
    expand[1] = width;
    at::Tensor gather_index = at::tensor(index, at::kLong).to(source.device()).view(view).expand(expand);
    out.values = rows.gather(1, gather_index);
  }
  out.values = out.values.movedim(1, pos_axis);
  if (!all_valid) {
    auto valid = at::zeros({n, width}, at::kBool);
    auto v = valid.accessor<bool, 2>();
    for (std::int64_t t = 0; t < n; ++t) {
      const std::int64_t covered = std::min(target.lengths[t], source_layout.lengths[picks[t]]);
      for (std::int64_t c = 0; c < width; ++c) {
        const std::int64_t i = offset + c - target.starts[t];
        v[t][c] = i >= 0 && i < covered;
      }
    }
    out.valid = valid.to(source.device());
  }
  return out;
}

RowLayout mean_layout(const RowLayout& source_layout) {
  RowLayout out;
  const std::int64_t longest = *std::max_element(source_layout.lengths.begin(), source_layout.lengths.end());
  out.batch_rows = {-1};
  out.lengths = {longest};
  out.starts = {0};
  out.seq = longest;
  return out;
}

at::Tensor mean_over_rows(const at::Tensor& source, const RowLayout& layout, int pos_axis,
                          bool over_positions) {
  // Prompt order first (token i at column i), so that row r's token i meets the others' token i.
  RowLayout prompt_order = layout;
  const std::int64_t longest = mean_layout(layout).seq;
  std::fill(prompt_order.starts.begin(), prompt_order.starts.end(), 0);
  prompt_order.seq = longest;
  std::vector<std::int64_t> picks(layout.rows());
  for (std::int64_t r = 0; r < layout.rows(); ++r) picks[r] = r;
  at::Tensor aligned = align_source(source, layout, picks, prompt_order, pos_axis, longest).values;
  at::Tensor x = aligned.movedim(pos_axis, 1).to(at::kFloat);  // [rows, longest, ...]

  auto real = at::zeros({layout.rows(), longest}, at::kFloat);
  for (std::int64_t r = 0; r < layout.rows(); ++r) real[r].narrow(0, 0, layout.lengths[r]).fill_(1.0);
  std::vector<std::int64_t> view(x.dim(), 1);
  view[0] = layout.rows();
  view[1] = longest;
  real = real.to(x.device()).view(view);
  at::Tensor sum = (x * real).sum(0, /*keepdim=*/true);
  at::Tensor count = real.sum(0, /*keepdim=*/true);
  at::Tensor mean = over_positions ? sum.sum(1, true) / count.sum(1, true) : sum / count.clamp_min(1.0);
  return mean.to(source.scalar_type()).movedim(1, pos_axis);
}

}  // namespace circuit::rt
