// The model's final norm and unembedding applied outside a forward pass: to any residual
// stream with a fresh scale (logit lens), or as a linear map with a frozen scale (direct logit
// attribution: TransformerLens's apply_ln_to_stack). Part of the runtime's analysis stage.
#pragma once

namespace at {
class Tensor;
}

namespace circuit::rt {

class HookedModel;

// x [..., d_model] through the final norm exactly as the forward computes it (LayerNorm,
// RMSNorm or none), then the unembedding (with its bias): [..., d_vocab].
at::Tensor final_norm(const HookedModel& model, const at::Tensor& x);
at::Tensor unembed(const HookedModel& model, const at::Tensor& normalized);

// The linear part of the final norm with the scale frozen: x [..., d_model] centred (LayerNorm
// only) and divided by `scale` (broadcast, [..., 1]), float32. Without a norm, x itself.
at::Tensor frozen_norm(const HookedModel& model, const at::Tensor& x, const at::Tensor& scale);

// The logit direction of each row in the normalized stream, float32: the final norm's weight
// times W_U[:, answer] (minus W_U[:, wrong] when `wrong` is defined). answer, wrong: [rows] ids.
// Returns [rows, d_model].
at::Tensor logit_direction(const HookedModel& model, const at::Tensor& answer, const at::Tensor& wrong);
// The constant part of the logit (difference) that no component writes: the final norm's bias
// dotted with the raw unembedding direction, plus the unembedding bias; [rows], float32.
at::Tensor logit_bias(const HookedModel& model, const at::Tensor& answer, const at::Tensor& wrong);

}  // namespace circuit::rt
