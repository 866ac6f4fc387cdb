// Attention of a resumed forward (HookedModel::forward_from): the computed columns' queries
// read the cached keys and values of the columns before the resume column and their own new
// ones. Forward rows that repeat one cache row are grouped so that the cached keys are read
// once per cache row, never copied per forward row. Scores and pattern are computed exactly as
// the explicit path of a full forward computes them, so hooks see the same numbers.
#include <ATen/ATen.h>

#include <algorithm>
#include <numeric>

#include "runtime/model/block.h"
#include "runtime/model/prefix_cache_data.h"

namespace circuit::rt {

RowGroups group_rows(const std::vector<std::int64_t>& rows, std::int64_t cache_batch, c10::Device device) {
  auto long_tensor = [&](const std::vector<std::int64_t>& v) { return at::tensor(v, at::kLong).to(device); };
  std::vector<std::int64_t> count(static_cast<size_t>(cache_batch), 0);
  for (std::int64_t r : rows) ++count[static_cast<size_t>(r)];
  std::int64_t repeats = 0;
  bool equal = true;
  for (std::int64_t c : count) {
    if (c == 0) continue;
    if (repeats == 0) repeats = c;
    equal &= c == repeats;
  }
  RowGroups g;
  if (!equal) {
    g.cache_rows = long_tensor(rows);
    return g;
  }
  g.repeats = repeats;
  std::vector<std::int64_t> order(rows.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) { return rows[a] < rows[b]; });
  std::vector<std::int64_t> used;
  for (std::int64_t r = 0; r < cache_batch; ++r)
    if (count[static_cast<size_t>(r)] > 0) used.push_back(r);
  if (static_cast<std::int64_t>(used.size()) != cache_batch) g.cache_rows = long_tensor(used);
  bool in_order = true;
  for (size_t t = 0; t < order.size(); ++t) in_order &= order[t] == static_cast<std::int64_t>(t);
  if (!in_order) {
    std::vector<std::int64_t> inverse(order.size());
    for (size_t t = 0; t < order.size(); ++t) inverse[static_cast<size_t>(order[t])] = static_cast<std::int64_t>(t);
    g.order = long_tensor(order);
    g.inverse = long_tensor(inverse);
  }
  return g;
}

at::Tensor to_groups(const at::Tensor& x, const RowGroups& g, std::int64_t kv_heads) {
  auto y = g.order.defined() ? x.index_select(0, g.order) : x;
  const std::int64_t rows = x.size(0), heads = x.size(1), n = x.size(2), d = x.size(3), k = g.repeats;
  // Query head h reads key head h / (heads / kv_heads), as in repeat_kv.
  return y.reshape({rows / k, k, kv_heads, heads / kv_heads, n, d})
      .permute({0, 2, 1, 3, 4, 5})
      .reshape({rows / k, kv_heads, k * (heads / kv_heads) * n, d});
}

at::Tensor from_groups(const at::Tensor& y, const RowGroups& g, std::int64_t heads, std::int64_t n) {
  const std::int64_t groups = y.size(0), kv_heads = y.size(1), d = y.size(3), k = g.repeats;
  auto x = y.reshape({groups, kv_heads, k, heads / kv_heads, n, d})
               .permute({0, 2, 1, 3, 4, 5})
               .reshape({groups * k, heads, n, d});
  return g.inverse.defined() ? x.index_select(0, g.inverse) : x;
}

namespace {

// The first `columns` cached columns of one layer's keys or values, one entry per group.
at::Tensor cached_columns(const at::Tensor& store, const CachedPrefix& p) {
  auto t = store.narrow(2, 0, p.columns);
  return p.groups.cache_rows.defined() ? t.index_select(0, p.groups.cache_rows) : t;
}

}  // namespace

at::Tensor attend_with_prefix(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int l,
                              double scale, const ForwardState& s) {
  const CachedPrefix& p = *s.prefix;
  const std::int64_t heads = q.size(1), n = q.size(2), kv_heads = k.size(1), cached = p.columns;
  const std::int64_t groups = heads / kv_heads;
  auto scores = at::matmul(q, repeat_kv(k, groups).transpose(-1, -2)) * scale;  // [rows, H, n, n]
  if (cached > 0) {
    auto keys = cached_columns(p.data->keys[static_cast<size_t>(l)], p);
    auto before = at::matmul(to_groups(q, p.groups, kv_heads), keys.transpose(-1, -2));
    scores = at::cat({from_groups(before, p.groups, heads, n) * scale, scores}, -1);
  }
  scores = scores.masked_fill(s.allowed.logical_not(), lowest_score(scores.scalar_type()));
  scores = s.hook(HookKind::AttnScores, l, scores);
  auto pattern = at::softmax(scores, -1, at::kFloat).to(q.scalar_type());
  pattern = s.hook(HookKind::Pattern, l, pattern);
  auto z = at::matmul(pattern.narrow(-1, cached, n), repeat_kv(v, groups));
  if (cached > 0) {
    auto values = cached_columns(p.data->values[static_cast<size_t>(l)], p);
    auto read = at::matmul(to_groups(pattern.narrow(-1, 0, cached), p.groups, kv_heads), values);
    z = z + from_groups(read, p.groups, heads, n);
  }
  return z;
}

}  // namespace circuit::rt
