// Multi-head attention with grouped key/value heads, rotary or learned (query/key-only)
// positions, and hook points at q/k/v, the scores, the pattern, z and each head's result.
// The fused scaled-dot-product kernel runs whenever neither the scores nor the pattern is
// hooked; the explicit path computes them exactly as the hooks see them. A resumed forward
// (ForwardState::prefix) attends through cached_attention.cpp instead.
#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include "runtime/model/block.h"
#include "runtime/model/prefix_cache_data.h"

namespace circuit::rt {

using formats::Family;
using formats::PositionKind;

at::Tensor repeat_kv(const at::Tensor& x, int64_t groups) {
  if (groups == 1) return x;
  const auto b = x.size(0), kv = x.size(1), p = x.size(2), d = x.size(3);
  return x.unsqueeze(2).expand({b, kv, groups, p, d}).reshape({b, kv * groups, p, d});
}

double lowest_score(c10::ScalarType dtype) {
  return dtype == at::kHalf       ? -65504.0
         : dtype == at::kBFloat16 ? -3.3895313892515355e38
                                  : std::numeric_limits<float>::lowest();
}

namespace {

// Each head's own copy of its input ([b, p, d_model] -> [b, p, heads, d_model]), for the
// opt-in hook_q_input / hook_k_input / hook_v_input points.
at::Tensor per_head(const at::Tensor& x, int64_t heads) {
  return x.unsqueeze(2).expand({x.size(0), x.size(1), heads, x.size(2)});
}

// [b, p, heads, d_model] x rows of a linear weight [heads * d_head, d_model] -> [b, p, heads, d_head]
at::Tensor per_head_linear(const at::Tensor& input, const at::Tensor& weight, const at::Tensor& bias,
                           int64_t heads, int64_t d_head) {
  auto w = weight.view({heads, d_head, weight.size(1)});
  auto out = at::einsum("bphm,hdm->bphd", {input, w});
  if (bias.defined()) out = out + bias.view({heads, d_head});
  return out;
}

at::Tensor rows(const at::Tensor& t, int64_t start, int64_t n) {
  return t.defined() ? t.narrow(0, start, n) : t;
}

}  // namespace

at::Tensor run_attention(const LayerWeights& w, int l, const at::Tensor& x, const ForwardState& s) {
  const auto& c = s.config;
  const int64_t b = x.size(0), p = x.size(1);
  const int64_t H = c.n_heads, KV = c.n_kv_heads > 0 ? c.n_kv_heads : c.n_heads, dh = c.d_head;
  const bool qk_positions = s.qk_positions.defined();
  const bool split_inputs = s.active(HookKind::QInput, l) || s.active(HookKind::KInput, l) ||
                            s.active(HookKind::VInput, l);

  at::Tensor q, k, v;
  if (!split_inputs) {
    if (!qk_positions) {
      auto qkv = at::linear(x, w.qkv_w, w.qkv_b);
      q = qkv.narrow(-1, 0, H * dh);
      k = qkv.narrow(-1, H * dh, KV * dh);
      v = qkv.narrow(-1, (H + KV) * dh, KV * dh);
    } else {
      auto qk = at::linear(x + s.qk_positions, rows(w.qkv_w, 0, (H + KV) * dh),
                           rows(w.qkv_b, 0, (H + KV) * dh));
      q = qk.narrow(-1, 0, H * dh);
      k = qk.narrow(-1, H * dh, KV * dh);
      v = at::linear(x, rows(w.qkv_w, (H + KV) * dh, KV * dh), rows(w.qkv_b, (H + KV) * dh, KV * dh));
    }
    q = q.view({b, p, H, dh});
    k = k.view({b, p, KV, dh});
    v = v.view({b, p, KV, dh});
  } else {
    auto qk_in = qk_positions ? x + s.qk_positions : x;
    auto q_in = s.hook(HookKind::QInput, l, per_head(qk_in, H));
    auto k_in = s.hook(HookKind::KInput, l, per_head(qk_in, KV));
    auto v_in = s.hook(HookKind::VInput, l, per_head(x, KV));
    q = per_head_linear(q_in, rows(w.qkv_w, 0, H * dh), rows(w.qkv_b, 0, H * dh), H, dh);
    k = per_head_linear(k_in, rows(w.qkv_w, H * dh, KV * dh), rows(w.qkv_b, H * dh, KV * dh), KV, dh);
    v = per_head_linear(v_in, rows(w.qkv_w, (H + KV) * dh, KV * dh),
                        rows(w.qkv_b, (H + KV) * dh, KV * dh), KV, dh);
  }
  q = s.hook(HookKind::Q, l, q);
  k = s.hook(HookKind::K, l, k);
  v = s.hook(HookKind::V, l, v);
  if (c.positions == PositionKind::Rotary) {
    q = s.hook(HookKind::RotQ, l, apply_rope(q, s.rope));
    k = s.hook(HookKind::RotK, l, apply_rope(k, s.rope));
  }

  const double scale = c.attn_scale > 0 ? c.attn_scale : 1.0 / std::sqrt(static_cast<double>(dh));
  auto qt = q.transpose(1, 2);  // [b, H, p, dh]
  auto kt = k.transpose(1, 2);  // [b, KV, p, dh]
  auto vt = v.transpose(1, 2);
  if (s.record) {
    // Detached copies: a cache outlives this forward and must not hold its graph.
    s.record->keys.push_back(kt.detach().contiguous());
    s.record->values.push_back(vt.detach().contiguous());
  }
  at::Tensor z;
  if (s.prefix) {
    z = attend_with_prefix(qt, kt, vt, l, scale, s);
  } else if (!s.active(HookKind::AttnScores, l) && !s.active(HookKind::Pattern, l)) {
    std::optional<at::Tensor> mask;
    if (s.allowed.defined()) mask = s.allowed;
    z = at::scaled_dot_product_attention(qt, kt, vt, mask, 0.0, !s.allowed.defined(), scale,
                                         /*enable_gqa=*/KV != H);
  } else {
    auto scores = at::matmul(qt, repeat_kv(kt, H / KV).transpose(-1, -2)) * scale;
    auto allowed = s.allowed.defined()
                       ? s.allowed
                       : at::ones({p, p}, at::TensorOptions().dtype(at::kBool).device(x.device())).tril();
    // The lowest finite value rather than -inf, as Hugging Face does: a fully masked row
    // stays finite.
    scores = scores.masked_fill(allowed.logical_not(), lowest_score(scores.scalar_type()));
    scores = s.hook(HookKind::AttnScores, l, scores);
    auto pattern = at::softmax(scores, -1, at::kFloat).to(q.scalar_type());
    pattern = s.hook(HookKind::Pattern, l, pattern);
    z = at::matmul(pattern, repeat_kv(vt, H / KV));
  }
  z = s.hook(HookKind::Z, l, z.transpose(1, 2));  // [b, p, H, dh]
  if (s.active(HookKind::Result, l)) {
    auto wo = w.o_w.view({c.d_model, H, dh});
    auto result = s.hook(HookKind::Result, l, at::einsum("bphd,mhd->bphm", {z, wo}));
    auto out = result.sum(2);
    return w.o_b.defined() ? out + w.o_b : out;
  }
  return at::linear(z.reshape({b, p, H * dh}), w.o_w, w.o_b);
}

}  // namespace circuit::rt
