// The forward is the model's own (no per-head copies, no hook_result): function hooks record
// hook_embed, hook_z, hook_mlp_out and, for the norms' backward, hook_resid_pre (all detached),
// and the HookSet keeps zero gradient leaves at hook_q/k/v, hook_mlp_in and the last
// hook_resid_post. Each head's output (its slice of hook_result) is z_h W_O,h, computed after
// the forward without autograd.
#include "runtime/analysis/receiver_gradients.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/hooks/hook_set.h"
#include "runtime/model/model_weights.h"

namespace circuit::rt {

using formats::NormKind;

struct ReceiverGradientRun::State {
  const formats::ModelConfig* config = nullptr;
  const ModelWeights* weights = nullptr;
  std::unique_ptr<HookSet> hooks;
  std::vector<at::Tensor> norm_inputs;  // per layer: hook_resid_pre's value, what ln1 reads
  std::vector<at::Tensor> z;            // per layer: hook_z [b, n, H, d_head]
  std::vector<at::Tensor> mlp_out;      // per layer: hook_mlp_out [b, n, d_model]
  at::Tensor embed, pos_embed;
  bool gradients = false;
  bool has_mlp = false;
};

namespace {

// The vector-Jacobian product of the first norm at input x ([N, d]) for vectors v ([R, N, d],
// one per receiver at each of the N positions, already multiplied by the norm's weight):
// d (v . normalized(x)) / d x, computed in place in v. Matches block.cpp's run_norm (RMSNorm
// in float32; LayerNorm); the bias and anything added after the norm do not matter.
at::Tensor norm_backward(at::Tensor v, const at::Tensor& x_in, const formats::ModelConfig& c) {
  if (c.norm == NormKind::None) return v;
  const at::Tensor x = x_in.to(at::kFloat);
  const double d = static_cast<double>(x.size(-1));
  if (c.norm == NormKind::RmsNorm) {
    // x r with r = (mean(x^2) + eps)^(-1/2): dx = r v - x r^3 (v . x) / d.
    const at::Tensor r = at::rsqrt(x.pow(2).mean(-1, true) + c.norm_eps);
    const at::Tensor coefficient = (v * x).sum(-1, true) * (r.pow(3) / d);
    return v.mul_(r).addcmul_(x, coefficient, -1.0);
  }
  // (x - mean) / s with s = (var + eps)^(1/2): dx = (v - mean(v) - xhat mean(v xhat)) / s.
  const at::Tensor centered = x - x.mean(-1, true);
  const at::Tensor s = at::sqrt(centered.pow(2).mean(-1, true) + c.norm_eps);
  const at::Tensor xhat = centered / s;
  const at::Tensor along = (v * xhat).mean(-1, true);
  return v.sub_(v.mean(-1, true)).addcmul_(xhat, along, -1.0).div_(s);
}

at::Tensor gradient_or_zeros(const HookSet& hooks, HookKind kind, int layer, const at::Tensor& like_shape) {
  const auto all = hooks.gradients();
  auto it = all.find(formats::hook_point_name(kind, layer));
  if (it == all.end()) throw std::logic_error("receiver gradients: no gradient was requested there");
  return it->second.defined() ? it->second.to(at::kFloat) : at::zeros_like(like_shape, at::kFloat);
}

}  // namespace

at::Tensor ReceiverGradientRun::receiver_gradients(int layer) const {
  if (!state || !state->gradients) throw std::logic_error("receiver gradients: the run asked for none");
  const auto& c = *state->config;
  const HookSet& hooks = *state->hooks;
  const at::Tensor& embed_value = state->embed;
  const std::int64_t b = embed_value.size(0), n = embed_value.size(1), d = c.d_model;
  const at::Tensor residual_shape = at::empty({b, n, d}, embed_value.options());
  if (layer == c.n_layers)
    return gradient_or_zeros(hooks, HookKind::ResidPost, c.n_layers - 1, residual_shape).unsqueeze(0);
  if (layer < 0 || layer > c.n_layers) throw std::out_of_range("receiver gradients: no layer " + std::to_string(layer));

  const LayerWeights& w = state->weights->layers[static_cast<std::size_t>(layer)];
  const std::int64_t H = c.n_heads, KV = c.n_kv_heads > 0 ? c.n_kv_heads : c.n_heads, dh = c.d_head;
  const std::int64_t heads = H + 2 * KV;
  auto head_gradient = [&](HookKind kind, std::int64_t count) {
    return gradient_or_zeros(hooks, kind, layer, at::empty({b, n, count, dh}, embed_value.options()));
  };
  // [b, n, heads, dh] -> [heads, b n, dh], times each head's rows of qkv_w [heads, dh, d].
  const at::Tensor g = at::cat({head_gradient(HookKind::Q, H), head_gradient(HookKind::K, KV),
                                head_gradient(HookKind::V, KV)}, 2)
                           .permute({2, 0, 1, 3})
                           .reshape({heads, b * n, dh});
  // The norm's weight folded into the projection: g_h (W_h * ln1_w) is the gradient at the
  // normalized input, times the weight, in one matmul.
  at::Tensor projection = w.qkv_w.to(at::kFloat).view({heads, dh, d});
  if (c.norm != NormKind::None && w.ln1_w.defined()) projection = projection * w.ln1_w.to(at::kFloat);
  at::Tensor out = norm_backward(at::bmm(g, projection),
                                 c.norm == NormKind::None ? at::Tensor() : state->norm_inputs[layer].reshape({b * n, d}),
                                 c);
  if (state->has_mlp) {
    const at::Tensor mlp = gradient_or_zeros(hooks, HookKind::MlpIn, layer, residual_shape).reshape({1, b * n, d});
    out = at::cat({out, mlp}, 0);
  }
  return out.view({out.size(0), b, n, d});
}

ReceiverGradientRun receiver_gradient_forward(const HookedModel& model, const EdgeGraph& graph,
                                              const TokenBatch& batch, const ReceiverGradientRequest& request) {
  const auto& c = model.config();
  const ModelWeights& weights = model.weights();
  const std::int64_t first = request.prefix ? request.first_column : 0;
  if (first < 0 || first >= batch.seq())
    throw std::invalid_argument("receiver gradients: first column " + std::to_string(first) + " outside 0.." +
                                std::to_string(batch.seq() - 1));
  const std::int64_t n = batch.seq() - first;

  auto state = std::make_shared<ReceiverGradientRun::State>();
  state->config = &c;
  state->weights = &weights;
  state->hooks = std::make_unique<HookSet>(c);
  state->gradients = request.gradients;
  state->has_mlp = graph.has_mlp();
  state->norm_inputs.resize(static_cast<std::size_t>(c.n_layers));
  state->z.resize(static_cast<std::size_t>(c.n_layers));
  state->mlp_out.resize(static_cast<std::size_t>(c.n_layers));
  HookSet& hooks = *state->hooks;
  ReceiverGradientRun::State* s = state.get();

  // What enters hook_embed: the request's replacement, or (resuming, where the model would
  // embed the cache's tokens) our batch's own tokens.
  at::Tensor replacement = request.embed;
  if (!replacement.defined() && request.prefix)
    replacement = at::embedding(weights.embed, batch.tokens.narrow(1, first, n).to(weights.embed.device()));
  if (replacement.defined() && (replacement.dim() != 3 || replacement.size(0) != batch.batch() ||
                                replacement.size(1) != n || replacement.size(2) != c.d_model))
    throw std::invalid_argument("receiver gradients: the embedding must be [" + std::to_string(batch.batch()) + ", " +
                                std::to_string(n) + ", " + std::to_string(c.d_model) + "]");
  hooks.call({HookKind::Embed, -1}, [s, replacement](const at::Tensor& x, const HookContext&) {
    at::Tensor y = replacement.defined() ? replacement.to(x.device(), x.scalar_type()) : x;
    s->embed = y.detach();
    return y;
  });
  const bool residual_positions = c.positions == formats::PositionKind::Learned;
  if (residual_positions) {
    hooks.call({HookKind::PosEmbed, -1}, [s](const at::Tensor& pos, const HookContext&) {
      s->pos_embed = pos.detach();
      return pos;
    });
  }
  const bool has_mlp = graph.has_mlp();
  for (int l = 0; l < c.n_layers; ++l) {
    hooks.call({HookKind::Z, l}, [s, l](const at::Tensor& z, const HookContext&) {
      s->z[static_cast<std::size_t>(l)] = z.detach();
      return z;
    });
    if (has_mlp) {
      hooks.call({HookKind::MlpOut, l}, [s, l](const at::Tensor& out, const HookContext&) {
        s->mlp_out[static_cast<std::size_t>(l)] = out.detach();
        return out;
      });
    }
    if (!request.gradients) continue;
    if (c.norm != NormKind::None) {
      hooks.call({HookKind::ResidPre, l}, [s, l](const at::Tensor& x, const HookContext&) {
        s->norm_inputs[static_cast<std::size_t>(l)] = x.detach();
        return x;
      });
    }
    for (HookKind kind : {HookKind::Q, HookKind::K, HookKind::V}) hooks.request_gradient(HookPointRef{kind, l});
    if (has_mlp) hooks.request_gradient(HookPointRef{HookKind::MlpIn, l});
  }
  if (request.gradients) hooks.request_gradient(HookPointRef{HookKind::ResidPost, c.n_layers - 1});

  ReceiverGradientRun run;
  if (request.prefix) {
    std::vector<std::int64_t> rows(static_cast<std::size_t>(batch.batch()));
    std::iota(rows.begin(), rows.end(), 0);
    run.logits = model.forward_from(*request.prefix, rows, ResumePoint{0, first}, &hooks, request.logits_at);
  } else {
    run.logits = model.forward(batch, &hooks, request.logits_at);
  }

  // Sender outputs, sender-major so that each sender's values are one contiguous row.
  at::NoGradGuard no_grad;
  const std::int64_t H = c.n_heads, dh = c.d_head, d = c.d_model;
  std::vector<at::Tensor> parts;
  parts.push_back((residual_positions ? s->embed + s->pos_embed : s->embed).unsqueeze(0));
  for (int l = 0; l < c.n_layers; ++l) {
    const LayerWeights& w = weights.layers[static_cast<std::size_t>(l)];
    parts.push_back(at::einsum("bnhe,mhe->hbnm", {s->z[static_cast<std::size_t>(l)], w.o_w.view({d, H, dh})}));
    if (has_mlp) parts.push_back(s->mlp_out[static_cast<std::size_t>(l)].unsqueeze(0));
  }
  run.sender_outputs = at::cat(parts, 0);
  run.embed = s->embed;
  // Only the norms' backward needs what the forward recorded from here on.
  for (auto& z : s->z) z = at::Tensor();
  for (auto& out : s->mlp_out) out = at::Tensor();
  s->pos_embed = at::Tensor();
  run.state = std::move(state);
  return run;
}

}  // namespace circuit::rt
