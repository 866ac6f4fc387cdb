// Mirrors run_norm in runtime/model/block.cpp operation for operation, so that the logit lens
// at the last layer reproduces the model's logits to the last bit the kernels allow.
#include "runtime/analysis/final_norm.h"

#include <ATen/ATen.h>

#include "runtime/model/hooked_model.h"
#include "runtime/model/model_weights.h"

namespace circuit::rt {

using formats::NormKind;

at::Tensor final_norm(const HookedModel& model, const at::Tensor& x) {
  const auto& c = model.config();
  const ModelWeights& w = model.weights();
  if (c.norm == NormKind::None) return x;
  if (c.norm == NormKind::LayerNorm) return at::layer_norm(x, {x.size(-1)}, w.ln_final_w, w.ln_final_b, c.norm_eps);
  auto xf = x.to(at::kFloat);
  auto y = xf * at::rsqrt(xf.pow(2).mean(-1, true) + c.norm_eps);
  return w.ln_final_w * y.to(x.scalar_type());
}

at::Tensor unembed(const HookedModel& model, const at::Tensor& normalized) {
  const ModelWeights& w = model.weights();
  return at::linear(normalized, w.unembed_w, w.unembed_b);
}

at::Tensor frozen_norm(const HookedModel& model, const at::Tensor& x, const at::Tensor& scale) {
  const auto norm = model.config().norm;
  at::Tensor xf = x.to(at::kFloat);
  if (norm == NormKind::None) return xf;
  if (norm == NormKind::LayerNorm) xf = xf - xf.mean(-1, true);
  return xf / scale.to(x.device(), at::kFloat);
}

namespace {

at::Tensor raw_direction(const HookedModel& model, const at::Tensor& answer, const at::Tensor& wrong) {
  const at::Tensor u = model.weights().unembed_w;
  const auto device = u.device();
  at::Tensor d = u.index_select(0, answer.to(device)).to(at::kFloat);
  if (wrong.defined()) d = d - u.index_select(0, wrong.to(device)).to(at::kFloat);
  return d;
}

}  // namespace

at::Tensor logit_direction(const HookedModel& model, const at::Tensor& answer, const at::Tensor& wrong) {
  at::Tensor d = raw_direction(model, answer, wrong);
  const ModelWeights& w = model.weights();
  if (model.config().norm != NormKind::None && w.ln_final_w.defined()) d = d * w.ln_final_w.to(at::kFloat);
  return d;
}

at::Tensor logit_bias(const HookedModel& model, const at::Tensor& answer, const at::Tensor& wrong) {
  const ModelWeights& w = model.weights();
  const auto device = w.unembed_w.device();
  at::Tensor out = at::zeros({answer.size(0)}, at::TensorOptions().dtype(at::kFloat).device(device));
  if (model.config().norm == NormKind::LayerNorm && w.ln_final_b.defined())
    out = out + (raw_direction(model, answer, wrong) * w.ln_final_b.to(at::kFloat)).sum(-1);
  if (w.unembed_b.defined()) {
    const at::Tensor b = w.unembed_b.to(at::kFloat);
    out = out + b.index_select(0, answer.to(device));
    if (wrong.defined()) out = out - b.index_select(0, wrong.to(device));
  }
  return out;
}

}  // namespace circuit::rt
