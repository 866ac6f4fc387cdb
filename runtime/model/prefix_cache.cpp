// PrefixCache: the per-layer state of one forward (see runtime/model/hooked_model.h), and how
// generation appends a column to it. Part of the runtime's model stage.
#include <ATen/ATen.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "runtime/model/prefix_cache_data.h"

namespace circuit::rt {

PrefixCache::PrefixCache() : data_(std::make_unique<Data>()) {}
PrefixCache::~PrefixCache() = default;
PrefixCache::PrefixCache(PrefixCache&&) noexcept = default;
PrefixCache& PrefixCache::operator=(PrefixCache&&) noexcept = default;

const TokenBatch& PrefixCache::batch() const { return data_->batch; }
PrefixCache::Data& PrefixCache::data() { return *data_; }
const PrefixCache::Data& PrefixCache::data() const { return *data_; }

std::int64_t PrefixCache::bytes() const {
  std::int64_t n = 0;
  auto count = [&](const at::Tensor& t) {
    if (t.defined()) n += static_cast<std::int64_t>(t.nbytes());
  };
  for (const auto* group : {&data_->resid, &data_->keys, &data_->values})
    for (const auto& t : *group) count(t);
  count(data_->qk_positions);
  return n;
}

TokenBatch append_column(const TokenBatch& batch, const std::vector<std::int64_t>& next_tokens,
                         const formats::ModelConfig& config) {
  const std::int64_t rows = batch.batch();
  if (static_cast<std::int64_t>(next_tokens.size()) != rows)
    throw std::invalid_argument("extending a cache of " + std::to_string(rows) + " rows needs " +
                                std::to_string(rows) + " next tokens, not " + std::to_string(next_tokens.size()));
  if (batch.padded() && batch.side == PadSide::Right)
    throw std::invalid_argument("cannot extend a right-padded batch: its new column would follow the padding");
  if (config.n_ctx > 0 && batch.seq() >= config.n_ctx)
    throw std::invalid_argument("cannot extend past the model's context of " + std::to_string(config.n_ctx) + " tokens");
  std::vector<std::int64_t> next_positions;
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int64_t id = next_tokens[static_cast<size_t>(r)];
    if (id < 0 || (config.d_vocab > 0 && id >= config.d_vocab))
      throw std::invalid_argument("token id " + std::to_string(id) + " outside the vocabulary 0.." +
                                  std::to_string(config.d_vocab - 1));
    next_positions.push_back(batch.lengths[static_cast<size_t>(r)]);
  }
  auto column = [&](const std::vector<std::int64_t>& v, const at::Tensor& like) {
    return at::tensor(v, at::kLong).to(like.device()).view({rows, 1});
  };
  TokenBatch out;
  out.side = batch.side;
  out.tokens = at::cat({batch.tokens, column(next_tokens, batch.tokens)}, 1);
  out.positions = at::cat({batch.positions, column(next_positions, batch.positions)}, 1);
  if (batch.padded()) {
    auto real = at::ones({rows, 1}, batch.attention_mask.options());
    out.attention_mask = at::cat({batch.attention_mask, real}, 1);
  }
  out.lengths = batch.lengths;
  for (auto& n : out.lengths) ++n;
  return out;
}

namespace {

// Writes `columns` after the first `used` entries of `store` along `dim`; a full store doubles
// its capacity, so that generating n tokens copies O(n) columns, not O(n^2).
void append_along(at::Tensor& store, const at::Tensor& columns, std::int64_t dim, std::int64_t used) {
  const std::int64_t n = columns.size(dim);
  if (used + n > store.size(dim)) {
    auto sizes = store.sizes().vec();
    sizes[static_cast<size_t>(dim)] = std::max(2 * store.size(dim), used + n);
    auto grown = at::empty(sizes, store.options());
    grown.narrow(dim, 0, used).copy_(store.narrow(dim, 0, used));
    store = grown;
  }
  store.narrow(dim, used, n).copy_(columns);
}

}  // namespace

void append_columns(PrefixCache::Data& cache, const PrefixCache::Data& added, std::int64_t used) {
  for (size_t i = 0; i < cache.resid.size(); ++i) append_along(cache.resid[i], added.resid[i], 1, used);
  for (size_t i = 0; i < cache.keys.size(); ++i) {
    append_along(cache.keys[i], added.keys[i], 2, used);
    append_along(cache.values[i], added.values[i], 2, used);
  }
  if (cache.qk_positions.defined()) append_along(cache.qk_positions, added.qk_positions, 1, used);
}

}  // namespace circuit::rt
