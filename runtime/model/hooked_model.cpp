#include "runtime/model/hooked_model.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <c10/core/InferenceMode.h>

#include <stdexcept>

#include "runtime/hooks/hook_set.h"
#include "runtime/model/block.h"
#include "runtime/model/model_weights.h"
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
};

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
  const Impl& m = *impl_;
  const auto& c = m.config;
  const auto& w = m.weights;
  if (batch.seq() > c.n_ctx && c.n_ctx > 0) {
    throw std::invalid_argument("sequence of " + std::to_string(batch.seq()) +
                                " tokens is longer than the model's context of " + std::to_string(c.n_ctx));
  }
  if (hooks) hooks->clear_results();
  // Autograd only when a gradient is asked for: a plain forward records no graph.
  const bool grad = hooks && hooks->wants_gradients();
  if (grad && c10::InferenceMode::is_enabled())
    throw std::invalid_argument("gradients were requested at hook points, but the forward runs inside "
                                "c10::InferenceMode, which records no graph");
  at::AutoGradMode grad_mode(grad);

  auto tokens = batch.tokens.to(m.device);
  auto positions = batch.positions.to(m.device);
  ForwardState s{c, hooks, {}, {}, {}};
  if (batch.padded()) {
    // Causal, and keys must be real tokens; a padding query may see itself so that no row is
    // fully masked (its output is never read).
    const int64_t p = batch.seq();
    auto opts = at::TensorOptions().dtype(at::kBool).device(m.device);
    auto causal = at::ones({p, p}, opts).tril();
    auto keys = batch.attention_mask.to(m.device).view({batch.batch(), 1, 1, p});
    s.allowed = causal.logical_and(keys).logical_or(at::eye(p, opts));
  }

  auto x = s.hook(HookKind::Embed, -1, at::embedding(w.embed, tokens));
  if (c.positions == PositionKind::Rotary) {
    s.rope = rope_tables(m.inverse_frequencies, positions, m.dtype);
  } else {
    auto pos = s.hook(HookKind::PosEmbed, -1, at::embedding(w.pos_embed, positions));
    if (c.positions == PositionKind::Learned) x = x + pos;
    else s.qk_positions = pos;
  }
  for (int l = 0; l < c.n_layers; ++l) x = run_block(w.layers[l], l, std::move(x), s);
  if (logits_at == LogitsAt::Last) x = x.narrow(1, x.size(1) - 1, 1);
  x = run_norm(x, w.ln_final_w, w.ln_final_b, HookKind::LnFinalScale, HookKind::LnFinalNormalized, -1, s);
  return s.hook(HookKind::Logits, -1, at::linear(x, w.unembed_w, w.unembed_b));
}

}  // namespace circuit::rt
