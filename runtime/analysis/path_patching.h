// Path patching: the effect of each sender on the metric through the receivers only (Wang et
// al. 2022, IOI). Part of the runtime's analysis stage.
//
// Senders are analysis.nodes (heads "a{l}.h{h}"; every head when empty). Receivers are
// analysis.receivers: a head's input "a{l}.h{h}<q>", "<k>" or "<v>" (blocks.{l}.attn.hook_q_input
// / hook_k_input / hook_v_input; a key or value receiver of a grouped-query model is the key/value
// head its query head reads), a head "a{l}.h{h}" (all three inputs), an MLP "m{l}" (its input,
// blocks.{l}.hook_mlp_in) or "logits" (blocks.{L-1}.hook_resid_post, the residual stream the
// unembedding reads). For each sender:
//  1. run the clean prompts with the sender's output (its slice of hook_z) taken from the
//     corrupt run and every other head's output frozen to its clean value (MLPs and norms are
//     recomputed), and record the receivers' inputs;
//  2. run the clean prompts with only the receivers' inputs replaced by the recorded ones, and
//     measure the metric.
// The score is that metric (mean over prompts), normalized by the clean and corrupt runs when
// the metric says so: 1 = no effect through the receivers, 0 = the receivers see the whole
// corrupt effect. analysis.positions, when given, restricts where the sender is patched. With
// receivers = logits this is direct-effect patching. Senders are stacked along the batch, one
// layer's senders at a time, as many per forward as the memory budget allows. Both forwards
// resume from the clean run's per-layer cache (from the senders' layer, respectively the first
// receiver's, and from the first column where a sender's patched output differs from its clean
// one); the first stops after the last receiver's layer. A sender that cannot reach any receiver
// (in the receiver's layer or above it, for a head's inputs) scores the clean run's metric
// without a forward: 1 when normalized. Ablation "patch" needs corrupt prompts paired
// with the clean ones (equal lengths); "mean" (the mean over the clean prompts at each position)
// and "zero" replace the sender's output instead, their baseline for normalizing being the clean
// run with every head so ablated.
// Results: nodes = the senders' scores; tensors["scores"] [n_layers, n_heads] (NaN for heads not
// scored); values["clean"], values["corrupt"]: the unnormalized baselines.
#pragma once

#include "runtime/analysis/analysis_context.h"

namespace circuit::rt {

AnalysisResult path_patching(const AnalysisContext& context);

}  // namespace circuit::rt
