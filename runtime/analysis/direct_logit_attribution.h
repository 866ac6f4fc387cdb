// Direct logit attribution: each head's and MLP's direct contribution to the metric's logit
// direction, through the clean run's final-norm scale. Part of the runtime's analysis stage.
//
// Per prompt, the direction is W_U[:, answer] - W_U[:, wrong] for logit_diff, W_U[:, answer] for
// logprob, prob and accuracy (the answer's logit); kl has no answer and is rejected. Each
// component's output at the metric position (a head's blocks.{l}.attn.hook_result, an MLP's
// blocks.{l}.hook_mlp_out, "input" = the token embeddings plus learned positional embeddings
// where the model adds them to the residual stream) is centred (LayerNorm only), divided by the
// CLEAN run's final-norm scale at that position (frozen: TransformerLens's apply_ln_to_stack),
// multiplied by the norm's weight and dotted with the direction. The scale is frozen, so the
// contributions add up: their sum plus the bias terms is the logit difference (or logit) the
// model outputs, exactly up to float rounding.
// Results (means over prompts):
//  - nodes: "input", "a{l}.h{h}", "m{l}" (or those in analysis.nodes), each its contribution;
//  - tensors["heads"] [n_layers, n_heads], tensors["mlps"] [n_layers] (models with MLPs);
//  - values["input"]; values["bias"]: every term that is not a component (the attention output
//    biases b_O of every layer through the frozen norm, the final norm's bias, b_U);
//    values["logit"]: the logit difference (or logit) of the clean run itself.
#pragma once

#include "runtime/analysis/analysis_context.h"

namespace circuit::rt {

AnalysisResult direct_logit_attribution(const AnalysisContext& context);

}  // namespace circuit::rt
