// Logit lens: the residual stream after every layer, put through the final norm and the
// unembedding; the metric per layer. Part of the runtime's analysis stage.
//
// For each layer l, blocks.{l}.hook_resid_post at each prompt's metric position goes through the
// model's final norm with a fresh scale (computed from that residual, as the model would were
// the layers above it absent) and the unembedding. At the last layer this is the model's own
// output: the lens logits equal its logits (to float rounding).
// Results:
//  - tensors["metric"] [n_layers]: the analysis metric per layer, the mean over prompts;
//    normalized by the clean and corrupt runs' metrics when the metric says so and the analysis
//    has corrupt prompts. KL compares each layer with the model's final output, KL(final || lens).
//  - tensors["metric_per_row"] [n_layers, prompts]: the same before the mean (unnormalized).
//  - tensors["logits"] [n_layers, prompts, d_vocab]: the lens logits at the metric position,
//    kept only when they hold at most 2^22 numbers (a small model or few prompts).
//  - values["model"]: the model's own metric (mean over prompts, unnormalized).
// Without a metric the lens reads each prompt's last token and reports only the logits.
#pragma once

#include "runtime/analysis/analysis_context.h"

namespace circuit::rt {

AnalysisResult logit_lens(const AnalysisContext& context);

}  // namespace circuit::rt
