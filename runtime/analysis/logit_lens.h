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
//  - tensors["top_tokens"] [n_layers, prompts, pos] and tensors["top_probs"] (same shape): the
//    classic per-position lens. For every real token of each prompt, the token the residual
//    stream there would predict (its argmax after the final norm and unembedding, as a float32
//    id, exact below 2^24) and that token's softmax probability. Positions are each prompt's
//    own tokens, left-aligned whatever side the batch pads: position i of prompt r is its i-th
//    real token (results.json `batches` lists each row's real tokens the same way), and pos is
//    the longest kept prompt; the positions after a shorter prompt's end hold -1 (top_tokens)
//    and NaN (top_probs). Kept when prompts x pos x n_layers <= 2^20; else for the first
//    prompts that fit. Unembedded in chunks of at most 2^22 logits, so that a large vocabulary
//    never needs [n_layers, prompts, pos, d_vocab] at once.
// Without a metric the lens reads each prompt's last token and reports only the logits and the
// per-position tensors.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/analysis/analysis_context.h"

namespace circuit::rt {

AnalysisResult logit_lens(const AnalysisContext& context);

// The most cells the per-position lens keeps (prompts x pos x n_layers).
inline constexpr std::int64_t kLensGridCells = std::int64_t{1} << 20;

// How many prompts the per-position lens keeps: the longest run of first prompts (of these
// lengths, in order) whose left-aligned grid, as wide as the longest of them, holds at most
// `max_cells` cells over n_layers.
std::int64_t lens_grid_prompts(const std::vector<std::int64_t>& lengths, int n_layers,
                               std::int64_t max_cells = kLensGridCells);

}  // namespace circuit::rt
