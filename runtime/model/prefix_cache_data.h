// What a PrefixCache holds (the pimpl behind runtime/model/hooked_model.h) and how a resumed
// forward maps its rows onto the cache's rows. Part of the runtime's model stage; internal to
// runtime/model.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "runtime/model/hooked_model.h"
#include "runtime/model/token_batch.h"

namespace circuit::rt {

// Tensors along a sequence axis may be longer than the batch (capacity for generation's
// appended columns); only the first batch.seq() columns are valid. All detached.
struct PrefixCache::Data {
  TokenBatch batch;
  std::vector<at::Tensor> resid;   // n_layers + 1 entries: [batch, cap, d_model], what enters each
                                   // block before its hook_resid_pre, then what enters ln_final
  std::vector<at::Tensor> keys;    // per layer [batch, kv_heads, cap, d_head], after rotary and hooks
  std::vector<at::Tensor> values;  // per layer [batch, kv_heads, cap, d_head]
  at::Tensor qk_positions;         // [batch, cap, d_model]: positions added to q/k inputs (AttnOnly)
};

// Forward rows grouped by the cache row they repeat, so that attention to the cached columns
// reads each cached row once: the queries of the `repeats` forward rows that share a cache row
// become one longer query block, instead of copying the cached keys `repeats` times.
struct RowGroups {
  at::Tensor cache_rows;  // [groups] int64, one cache row per group; undefined = every cache row in order
  at::Tensor order;       // [rows] forward rows in group order; undefined = already in order
  at::Tensor inverse;     // the inverse permutation of `order`
  std::int64_t repeats = 1;
};

// Groups `rows` (each in [0, cache_batch)): equal repeat counts group; otherwise each forward
// row is its own group (the cached rows are gathered once per forward row).
RowGroups group_rows(const std::vector<std::int64_t>& rows, std::int64_t cache_batch, c10::Device device);

// [rows, heads, n, d] -> [groups, kv_heads, repeats * (heads / kv_heads) * n, d]
at::Tensor to_groups(const at::Tensor& x, const RowGroups& g, std::int64_t kv_heads);
// The inverse of to_groups: [groups, kv_heads, repeats * (heads / kv_heads) * n, d] -> [rows, heads, n, d].
at::Tensor from_groups(const at::Tensor& y, const RowGroups& g, std::int64_t heads, std::int64_t n);

// The cached columns a resumed forward attends to, for ForwardState.
struct CachedPrefix {
  const PrefixCache::Data* data = nullptr;
  std::int64_t columns = 0;  // the resume column: cached columns [0, columns) are read
  RowGroups groups;
};

// Where a forward records the keys and values it computes (per layer, [batch, kv_heads, n, d_head]).
struct KvRecord {
  std::vector<at::Tensor> keys, values;
};

// `batch` with one more column: next_tokens[r] after row r's last token (generation). Left
// padding (or none) only: with right padding the new column would follow the padding.
TokenBatch append_column(const TokenBatch& batch, const std::vector<std::int64_t>& next_tokens,
                         const formats::ModelConfig& config);

// Writes what a forward over the columns from `used` on recorded (`added`: per-layer resid,
// keys, values, positions) after the first `used` columns of `cache`, growing its capacity.
void append_columns(PrefixCache::Data& cache, const PrefixCache::Data& added, std::int64_t used);

}  // namespace circuit::rt
