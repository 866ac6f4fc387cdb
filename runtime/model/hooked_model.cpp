#include "runtime/model/hooked_model.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <c10/core/InferenceMode.h>

#include <stdexcept>

#include "runtime/hooks/hook_set.h"
#include "runtime/model/block.h"
#include "runtime/model/model_weights.h"
#include "runtime/model/prefix_cache_data.h"
#include "runtime/model/token_batch.h"
#include "runtime/model/torch_options.h"
#include "runtime/weights/weight_loader.h"

namespace circuit::rt {

using formats::PositionKind;

struct HookedModel::Impl {
  formats::ModelConfig config;
  RuntimeOptions options;
  c10::Device device{c10::kCPU};
  c10::ScalarType dtype = c10::kFloat;
  ModelWeights weights;
  at::Tensor inverse_frequencies;  // rotary families

  // A forward over every column; `record`, when given, receives what forward_from needs.
  // `stop_after` >= 0: the forward ends after that block and returns its residual stream.
  at::Tensor run_full(const TokenBatch& batch, HookSet* hooks, LogitsAt logits_at,
                      PrefixCache::Data* record, int stop_after = -1) const;
  // Columns [from.first_column, batch.seq()) of blocks from.layer and up, for forward rows that
  // repeat the cache rows `rows`; `record`, when given, receives the computed columns' state.
  at::Tensor run_resumed(const PrefixCache::Data& cache, const TokenBatch& batch,
                         const std::vector<std::int64_t>& rows, ResumePoint from, HookSet* hooks,
                         LogitsAt logits_at, PrefixCache::Data* record, int stop_after = -1) const;
  // The final norm and the unembedding.
  at::Tensor unembed(at::Tensor x, LogitsAt logits_at, const ForwardState& s) const;
};

namespace {

// Clears the hook set's results, tells it where positions start, and says whether the forward
// needs autograd (only when a gradient is asked for: a plain forward records no graph).
bool begin_forward(HookSet* hooks, std::int64_t first_column) {
  if (!hooks) return false;
  hooks->clear_results();
  hooks->set_position_offset(first_column);
  const bool grad = hooks->wants_gradients();
  if (grad && c10::InferenceMode::is_enabled())
    throw std::invalid_argument("gradients were requested at hook points, but the forward runs inside "
                                "c10::InferenceMode, which records no graph");
  return grad;
}

void check_context(const TokenBatch& batch, const formats::ModelConfig& c) {
  if (batch.seq() > c.n_ctx && c.n_ctx > 0) {
    throw std::invalid_argument("sequence of " + std::to_string(batch.seq()) +
                                " tokens is longer than the model's context of " + std::to_string(c.n_ctx));
  }
}

// A hook point below the resume layer would silently not run (its layer comes from the cache):
// refuse it, since the resume point, not the hook, is then wrong.
void check_hooks_run(const HookSet* hooks, int first_layer) {
  if (!hooks || first_layer == 0) return;
  for (int k = 0; k < formats::kHookKindCount; ++k) {
    const auto kind = static_cast<HookKind>(k);
    const auto& spec = formats::hook_point_spec(kind);
    const int below = spec.per_layer ? first_layer : (kind == HookKind::Embed || kind == HookKind::PosEmbed ? 0 : -1);
    for (int l = spec.per_layer ? 0 : -1; l < below; ++l) {
      if (hooks->active(kind, l))
        throw std::invalid_argument("hook point '" + formats::hook_point_name(kind, l) +
                                    "' is below the resume layer " + std::to_string(first_layer) +
                                    " and would not run");
    }
  }
}

// A forward that stops after block `last_layer` never reaches the hook points above it:
// refuse them, as check_hooks_run refuses those below a resume layer. Checks the layer too.
void check_stop(const HookSet* hooks, int last_layer, int first_layer, const formats::ModelConfig& c) {
  if (last_layer < first_layer || last_layer >= c.n_layers)
    throw std::invalid_argument("cannot stop after layer " + std::to_string(last_layer) + ": the forward runs layers " +
                                std::to_string(first_layer) + ".." + std::to_string(c.n_layers - 1));
  if (!hooks) return;
  for (int k = 0; k < formats::kHookKindCount; ++k) {
    const auto kind = static_cast<HookKind>(k);
    const auto& spec = formats::hook_point_spec(kind);
    if (!spec.per_layer && (kind == HookKind::Embed || kind == HookKind::PosEmbed)) continue;
    for (int l = spec.per_layer ? last_layer + 1 : -1; l < (spec.per_layer ? c.n_layers : 0); ++l) {
      if (hooks->active(kind, l))
        throw std::invalid_argument("hook point '" + formats::hook_point_name(kind, l) +
                                    "' is above the stop layer " + std::to_string(last_layer) +
                                    " and would not run");
    }
  }
}

// The first `columns` padded columns of `batch` as a batch of their own (forward_prefix).
TokenBatch leading_columns(const TokenBatch& batch, std::int64_t columns) {
  TokenBatch out;
  out.side = batch.side;
  out.tokens = batch.tokens.narrow(1, 0, columns);
  out.positions = batch.positions.narrow(1, 0, columns);
  if (batch.padded()) {
    out.attention_mask = batch.attention_mask.narrow(1, 0, columns);
    const at::Tensor real = out.attention_mask.sum(1).to(at::kCPU).to(at::kLong).contiguous();
    out.lengths.assign(real.data_ptr<std::int64_t>(), real.data_ptr<std::int64_t>() + real.numel());
  } else {
    out.lengths.assign(static_cast<size_t>(batch.batch()), columns);
  }
  return out;
}

// Moves a recording's keys and values (per layer) into the cache's data.
void keep_kv(KvRecord& kv, PrefixCache::Data& record) {
  record.keys = std::move(kv.keys);
  record.values = std::move(kv.values);
}

}  // namespace

at::Tensor HookedModel::Impl::unembed(at::Tensor x, LogitsAt logits_at, const ForwardState& s) const {
  const auto& w = weights;
  if (logits_at == LogitsAt::Last) x = x.narrow(1, x.size(1) - 1, 1);
  x = run_norm(x, w.ln_final_w, w.ln_final_b, HookKind::LnFinalScale, HookKind::LnFinalNormalized, -1, s);
  return s.hook(HookKind::Logits, -1, at::linear(x, w.unembed_w, w.unembed_b));
}

at::Tensor HookedModel::Impl::run_full(const TokenBatch& batch, HookSet* hooks, LogitsAt logits_at,
                                       PrefixCache::Data* record, int stop_after) const {
  const auto& c = config;
  const auto& w = weights;
  check_context(batch, c);
  at::AutoGradMode grad_mode(begin_forward(hooks, 0));

  auto tokens = batch.tokens.to(device);
  auto positions = batch.positions.to(device);
  ForwardState s{c, hooks, {}, {}, {}};
  KvRecord kv;
  if (record) {
    record->batch = batch;
    s.record = &kv;
  }
  if (batch.padded()) {
    // Causal, and keys must be real tokens; a padding query may see itself so that no row is
    // fully masked (its output is never read).
    const int64_t p = batch.seq();
    auto opts = at::TensorOptions().dtype(at::kBool).device(device);
    auto causal = at::ones({p, p}, opts).tril();
    auto keys = batch.attention_mask.to(device).view({batch.batch(), 1, 1, p});
    s.allowed = causal.logical_and(keys).logical_or(at::eye(p, opts));
  }

  auto x = s.hook(HookKind::Embed, -1, at::embedding(w.embed, tokens));
  if (c.positions == PositionKind::Rotary) {
    s.rope = rope_tables(inverse_frequencies, positions, dtype);
  } else {
    auto pos = s.hook(HookKind::PosEmbed, -1, at::embedding(w.pos_embed, positions));
    if (c.positions == PositionKind::Learned) x = x + pos;
    else s.qk_positions = pos;
  }
  if (record && s.qk_positions.defined()) record->qk_positions = s.qk_positions.detach();
  for (int l = 0; l < c.n_layers; ++l) {
    if (record) record->resid.push_back(x.detach());
    x = run_block(w.layers[l], l, std::move(x), s);
    if (l == stop_after) return x;
  }
  if (record) {
    record->resid.push_back(x.detach());
    keep_kv(kv, *record);
  }
  return unembed(std::move(x), logits_at, s);
}

at::Tensor HookedModel::Impl::run_resumed(const PrefixCache::Data& cache, const TokenBatch& batch,
                                          const std::vector<std::int64_t>& rows, ResumePoint from,
                                          HookSet* hooks, LogitsAt logits_at, PrefixCache::Data* record,
                                          int stop_after) const {
  const auto& c = config;
  const auto& w = weights;
  const std::int64_t seq = batch.seq(), first = from.first_column, cache_rows = cache.batch.batch();
  if (from.layer < 0 || from.layer > c.n_layers)
    throw std::invalid_argument("cannot resume at layer " + std::to_string(from.layer) + ": layers are 0.." +
                                std::to_string(c.n_layers) + " (" + std::to_string(c.n_layers) +
                                " = after the last block)");
  if (first < 0 || first >= seq)
    throw std::invalid_argument("cannot resume at column " + std::to_string(first) + ": the batch has columns 0.." +
                                std::to_string(seq - 1));
  if (rows.empty()) throw std::invalid_argument("cannot resume with no rows");
  for (std::int64_t r : rows) {
    if (r < 0 || r >= cache_rows)
      throw std::invalid_argument("cannot resume cache row " + std::to_string(r) + ": the cache has rows 0.." +
                                  std::to_string(cache_rows - 1));
  }
  check_context(batch, c);
  check_hooks_run(hooks, from.layer);
  at::AutoGradMode grad_mode(begin_forward(hooks, first));

  const std::int64_t n = seq - first, count = static_cast<std::int64_t>(rows.size());
  bool identity = count == cache_rows;
  for (std::int64_t t = 0; identity && t < count; ++t) identity = rows[static_cast<size_t>(t)] == t;
  auto index = at::tensor(rows, at::kLong).to(device);
  // Columns [first, seq) of the forward rows (a copy of only those columns).
  auto take = [&](const at::Tensor& t) {
    auto columns = t.to(device).narrow(1, first, n);
    return identity ? columns : columns.index_select(0, index);
  };

  CachedPrefix prefix{&cache, first, group_rows(rows, cache_rows, device)};
  ForwardState s{c, hooks, {}, {}, {}};
  s.prefix = &prefix;
  KvRecord kv;
  if (record) s.record = &kv;
  // The full forward's mask, restricted to the computed query columns.
  auto opts = at::TensorOptions().dtype(at::kBool).device(device);
  s.allowed = at::ones({seq, seq}, opts).tril().narrow(0, first, n);
  if (batch.padded()) {
    auto mask = batch.attention_mask.to(device);
    auto keys = (identity ? mask : mask.index_select(0, index)).view({count, 1, 1, seq});
    s.allowed = s.allowed.logical_and(keys).logical_or(at::eye(seq, opts).narrow(0, first, n));
  }
  auto positions = take(batch.positions);
  if (c.positions == PositionKind::Rotary) s.rope = rope_tables(inverse_frequencies, positions, dtype);

  at::Tensor x;
  if (from.layer == 0) {
    x = s.hook(HookKind::Embed, -1, at::embedding(w.embed, take(batch.tokens)));
    if (c.positions != PositionKind::Rotary) {
      auto pos = s.hook(HookKind::PosEmbed, -1, at::embedding(w.pos_embed, positions));
      if (c.positions == PositionKind::Learned) x = x + pos;
      else s.qk_positions = pos;
    }
  } else {
    x = take(cache.resid[static_cast<size_t>(from.layer)]);
    if (cache.qk_positions.defined()) s.qk_positions = take(cache.qk_positions);
  }
  if (record && s.qk_positions.defined()) record->qk_positions = s.qk_positions.detach();
  for (int l = from.layer; l < c.n_layers; ++l) {
    if (record) record->resid.push_back(x.detach());
    x = run_block(w.layers[l], l, std::move(x), s);
    if (l == stop_after) return x;
  }
  if (record) {
    record->resid.push_back(x.detach());
    keep_kv(kv, *record);
  }
  return unembed(std::move(x), logits_at, s);
}


HookedModel::HookedModel(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

HookedModel HookedModel::from_weights(const formats::ModelConfig& config, WeightMap weights,
                                      const RuntimeOptions& options) {
  validate_runtime_options(options);
  auto impl = std::make_shared<Impl>();
  impl->config = config;
  impl->options = options;
  impl->device = parse_device(options.device);
  impl->dtype = parse_dtype(options.dtype);
  for (auto& [name, tensor] : weights) tensor = tensor.to(impl->device, impl->dtype).contiguous();
  impl->weights = assemble_weights(std::move(weights), config, config.name);
  if (config.positions == PositionKind::Rotary)
    impl->inverse_frequencies = rope_inverse_frequencies(config).to(impl->device);
  return HookedModel(std::move(impl));
}

HookedModel HookedModel::load(const formats::ModelSource& source, const RuntimeOptions& options) {
  validate_runtime_options(options);
  WeightMap weights = load_weight_map(source, parse_device(options.device), parse_dtype(options.dtype));
  return from_weights(source.config, std::move(weights), options);
}

const formats::ModelConfig& HookedModel::config() const { return impl_->config; }
const RuntimeOptions& HookedModel::options() const { return impl_->options; }
const ModelWeights& HookedModel::weights() const { return impl_->weights; }

std::string HookedModel::dtype_name() const {
  switch (impl_->dtype) {
    case c10::kBFloat16: return "bf16";
    case c10::kHalf: return "f16";
    default: return "f32";
  }
}

std::int64_t HookedModel::parameter_count() const {
  const auto& w = impl_->weights;
  std::int64_t n = 0;
  auto count = [&](const at::Tensor& t) { if (t.defined()) n += t.numel(); };
  count(w.embed);
  count(w.pos_embed);
  for (const auto& l : w.layers) {
    for (const at::Tensor* t : {&l.ln1_w, &l.ln1_b, &l.qkv_w, &l.qkv_b, &l.o_w, &l.o_b, &l.ln2_w,
                                &l.ln2_b, &l.in_w, &l.in_b, &l.out_w, &l.out_b})
      count(*t);
  }
  count(w.ln_final_w);
  count(w.ln_final_b);
  if (!w.unembed_w.is_same(w.embed)) count(w.unembed_w);
  count(w.unembed_b);
  return n;
}

at::Tensor HookedModel::forward(const at::Tensor& tokens, HookSet* hooks) const {
  return forward(make_token_batch(tokens, impl_->config), hooks);
}

at::Tensor HookedModel::forward(const TokenBatch& batch, HookSet* hooks, LogitsAt logits_at) const {
  return impl_->run_full(batch, hooks, logits_at, nullptr);
}

PrefixCache HookedModel::forward_with_cache(const TokenBatch& batch, HookSet* hooks, LogitsAt logits_at,
                                            at::Tensor* logits) const {
  PrefixCache cache;
  auto out = impl_->run_full(batch, hooks, logits_at, &cache.data());
  if (logits) *logits = out;
  return cache;
}

at::Tensor HookedModel::forward_from(const PrefixCache& cache, const std::vector<std::int64_t>& rows,
                                     ResumePoint from, HookSet* hooks, LogitsAt logits_at) const {
  const auto& d = cache.data();
  if (!d.batch.tokens.defined()) throw std::invalid_argument("cannot resume from an empty prefix cache");
  // A forward_prefix cache holds only its first columns (a full cache holds at least seq).
  const std::int64_t held = d.keys.empty() ? d.batch.seq() : d.keys.front().size(2);
  if (held < d.batch.seq() && (from.layer > 0 || from.first_column > held))
    throw std::invalid_argument("cannot resume at layer " + std::to_string(from.layer) + ", column " +
                                std::to_string(from.first_column) + ": the cache holds only columns 0.." +
                                std::to_string(held - 1) + " (resume at layer 0, column " + std::to_string(held) +
                                " or before)");
  return impl_->run_resumed(d, d.batch, rows, from, hooks, logits_at, nullptr);
}

PrefixCache HookedModel::forward_prefix(const TokenBatch& batch, std::int64_t columns) const {
  if (columns < 1 || columns > batch.seq())
    throw std::invalid_argument("cannot cache the first " + std::to_string(columns) + " columns of a batch of " +
                                std::to_string(batch.seq()));
  PrefixCache cache;
  // Only the last column is unembedded (nothing reads it); the cache then answers for `batch`.
  impl_->run_full(leading_columns(batch, columns), nullptr, LogitsAt::Last, &cache.data());
  cache.data().batch = batch;
  return cache;
}

at::Tensor HookedModel::forward_until(const TokenBatch& batch, int last_layer, HookSet* hooks) const {
  check_stop(hooks, last_layer, 0, impl_->config);
  return impl_->run_full(batch, hooks, LogitsAt::All, nullptr, last_layer);
}

at::Tensor HookedModel::forward_from_until(const PrefixCache& cache, const std::vector<std::int64_t>& rows,
                                           ResumePoint from, int last_layer, HookSet* hooks) const {
  const auto& d = cache.data();
  if (!d.batch.tokens.defined()) throw std::invalid_argument("cannot resume from an empty prefix cache");
  check_stop(hooks, last_layer, from.layer, impl_->config);
  return impl_->run_resumed(d, d.batch, rows, from, hooks, LogitsAt::All, nullptr, last_layer);
}

at::Tensor HookedModel::extend(PrefixCache& cache, const std::vector<std::int64_t>& next_tokens,
                               HookSet* hooks) const {
  auto& d = cache.data();
  if (!d.batch.tokens.defined()) throw std::invalid_argument("cannot extend an empty prefix cache");
  if (!d.keys.empty() && d.keys.front().size(2) < d.batch.seq())
    throw std::invalid_argument("cannot extend a cache of the first columns only (forward_prefix)");
  const std::int64_t old_seq = d.batch.seq();
  TokenBatch longer = append_column(d.batch, next_tokens, impl_->config);
  std::vector<std::int64_t> rows(static_cast<size_t>(longer.batch()));
  for (size_t r = 0; r < rows.size(); ++r) rows[r] = static_cast<std::int64_t>(r);
  PrefixCache::Data added;
  auto logits = impl_->run_resumed(d, longer, rows, {0, old_seq}, hooks, LogitsAt::All, &added);
  append_columns(d, added, old_seq);
  d.batch = std::move(longer);
  return logits;
}

}  // namespace circuit::rt
