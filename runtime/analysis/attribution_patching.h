// Attribution patching: a first-order (gradient x activation difference) estimate of activation
// patching for every node at once. Part of the runtime's analysis stage.
//
// Nodes are analysis.nodes: heads "a{l}.h{h}" (their slice of blocks.{l}.attn.hook_z), MLPs
// "m{l}" (blocks.{l}.hook_mlp_out) and "input" (hook_embed); every head when empty. A node's
// score is sum over positions and features of (corrupt - clean) * d metric / d activation, the
// gradient taken at the clean run, averaged over prompts: the first-order estimate of how much
// patching that node from the corrupt run changes the metric (Nanda 2023; Syed et al. 2023). The
// estimate is exact where the metric is linear in the node (the last layer's heads of a model
// without a final norm, with logit_diff). analysis.positions, when given, restricts the sum to
// those positions. With a normalized metric the change is divided by (clean - corrupt), so -1
// means "takes the metric all the way to the corrupt run". The corrupt activations come from
// the corrupt prompts (ablation "patch"), the mean over the clean prompts at each position
// ("mean"), or zero ("zero"). kl against the clean run has zero gradient there, so every score
// is 0: use logit_diff or logprob. One clean forward and backward, one corrupt forward.
// Results: nodes; tensors["scores"] [n_layers, n_heads] and tensors["mlps"] [n_layers] for the
// kinds of nodes scored (NaN where not scored); values["clean"], values["corrupt"] (patch only).
#pragma once

#include "runtime/analysis/analysis_context.h"

namespace circuit::rt {

AnalysisResult attribution_patching(const AnalysisContext& context);

}  // namespace circuit::rt
