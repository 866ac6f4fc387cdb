#include "runtime/model/block.h"

#include <ATen/ATen.h>

#include <stdexcept>

namespace circuit::rt {

using formats::MlpKind;
using formats::NormKind;

at::Tensor run_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                    HookKind scale_kind, HookKind normalized_kind, int layer, const ForwardState& s) {
  const auto& c = s.config;
  if (c.norm == NormKind::None) return x;
  const bool scale_hooked = s.active(scale_kind, layer);
  at::Tensor y;
  if (c.norm == NormKind::LayerNorm) {
    if (!scale_hooked) {
      y = at::layer_norm(x, {x.size(-1)}, weight, bias, c.norm_eps);
    } else {
      auto centered = x - x.mean(-1, true);
      auto scale = (centered.pow(2).mean(-1, true) + c.norm_eps).sqrt();
      scale = s.hook(scale_kind, layer, scale);
      y = centered / scale * weight;
      if (bias.defined()) y = y + bias;
    }
  } else {
    // RMSNorm in float32, the weight applied after casting back (as Hugging Face does).
    auto xf = x.to(at::kFloat);
    auto mean_square = xf.pow(2).mean(-1, true);
    if (!scale_hooked) {
      y = xf * at::rsqrt(mean_square + c.norm_eps);
    } else {
      auto scale = s.hook(scale_kind, layer, (mean_square + c.norm_eps).sqrt());
      y = xf / scale;
    }
    y = weight * y.to(x.scalar_type());
  }
  return s.hook(normalized_kind, layer, y);
}

at::Tensor run_mlp(const LayerWeights& w, int l, const at::Tensor& x, const ForwardState& s) {
  const auto& c = s.config;
  at::Tensor post;
  if (c.mlp == MlpKind::SwiGlu) {
    auto fused = at::linear(x, w.in_w, w.in_b);
    auto gate = s.hook(HookKind::MlpPre, l, fused.narrow(-1, 0, c.d_mlp));
    auto up = s.hook(HookKind::MlpPreLinear, l, fused.narrow(-1, c.d_mlp, c.d_mlp));
    at::Tensor act;
    if (c.activation == "silu" || c.activation == "swish") act = at::silu(gate);
    else if (c.activation == "gelu" ) act = at::gelu(gate);
    else if (c.activation == "gelu_new" || c.activation == "gelu_pytorch_tanh") act = at::gelu(gate, "tanh");
    else throw std::invalid_argument("unsupported MLP activation '" + c.activation + "'");
    post = act * up;
  } else {
    auto pre = s.hook(HookKind::MlpPre, l, at::linear(x, w.in_w, w.in_b));
    const auto& a = c.activation;
    if (a == "gelu_new" || a == "gelu_pytorch_tanh" || a == "gelu_fast") post = at::gelu(pre, "tanh");
    else if (a == "gelu") post = at::gelu(pre);
    else if (a == "relu") post = at::relu(pre);
    else if (a == "silu" || a == "swish") post = at::silu(pre);
    else throw std::invalid_argument("unsupported MLP activation '" + a + "'");
  }
  post = s.hook(HookKind::MlpPost, l, post);
  return at::linear(post, w.out_w, w.out_b);
}

at::Tensor run_block(const LayerWeights& w, int l, at::Tensor resid, const ForwardState& s) {
  const auto& c = s.config;
  resid = s.hook(HookKind::ResidPre, l, std::move(resid));
  auto normed = run_norm(resid, w.ln1_w, w.ln1_b, HookKind::Ln1Scale, HookKind::Ln1Normalized, l, s);
  auto attn_out = s.hook(HookKind::AttnOut, l, run_attention(w, l, normed, s));
  const bool has_mlp = c.mlp != MlpKind::None && c.d_mlp > 0;
  at::Tensor post;
  if (!has_mlp) {
    post = resid + attn_out;
  } else if (c.parallel_residual) {
    // GPT-NeoX: attention and MLP both read resid_pre.
    auto mlp_in = s.hook(HookKind::MlpIn, l, resid);
    auto normed2 = run_norm(mlp_in, w.ln2_w, w.ln2_b, HookKind::Ln2Scale, HookKind::Ln2Normalized, l, s);
    auto mlp_out = s.hook(HookKind::MlpOut, l, run_mlp(w, l, normed2, s));
    post = mlp_out + attn_out + resid;
  } else {
    auto mid = s.hook(HookKind::ResidMid, l, resid + attn_out);
    auto mlp_in = s.hook(HookKind::MlpIn, l, mid);
    auto normed2 = run_norm(mlp_in, w.ln2_w, w.ln2_b, HookKind::Ln2Scale, HookKind::Ln2Normalized, l, s);
    auto mlp_out = s.hook(HookKind::MlpOut, l, run_mlp(w, l, normed2, s));
    post = mid + mlp_out;
  }
  return s.hook(HookKind::ResidPost, l, std::move(post));
}

}  // namespace circuit::rt
