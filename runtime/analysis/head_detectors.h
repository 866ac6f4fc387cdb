// Head detectors: a score per attention head for a known attention behaviour (previous token,
// induction, duplicate token) measured on the analysis's prompts, and the copying score of each
// head's OV circuit. Part of the runtime's analysis stage.
//
// Every detector returns nodes "a{l}.h{h}" (all heads, or those in analysis.nodes) and
// tensors["scores"] [n_layers, n_heads]. The attention detectors read hook_pattern over the
// clean prompts; queries and keys are real tokens only (padding never counts), and
// analysis.positions, when given, restricts the query positions. A score is pooled over every
// qualifying (prompt, query) pair, i.e. weighted by query count, not averaged per prompt. The
// attention mass is the raw pattern: BOS is not left out (a head that parks attention on BOS
// scores lower), as in TransformerLens.
//  - previous_token_score: mean over queries i >= 1 of pattern[i, i-1].
//  - induction_score: mean over queries i that have an earlier copy of their token (some j <= i
//    with token[j-1] == token[i]) of the attention mass on all such j: the token after each
//    earlier copy. On [BOS] s s prompts this is the classic induction stripe.
//  - duplicate_token_score: mean over queries i with an earlier j < i, token[j] == token[i], of
//    the mass on all such j.
//  - copying_score: from the weights only, the positive-eigenvalue score sum(Re λ) / sum(|λ|) of
//    the head's full OV circuit W_E W_V W_O W_U (vocab x vocab, rows the attended token): +1 for
//    a pure copying head, -1 for a pure anti-copying head. Its nonzero eigenvalues are those of
//    the d_head x d_head product W_O W_U W_E W_V, which is what is computed (float64). Norms,
//    biases and positional embeddings are ignored (the OV circuit as Elhage et al. 2021 define it).
// An attention detector over prompts where no query qualifies (no repeated token for induction)
// is an error naming the analysis.
#pragma once

#include "runtime/analysis/analysis_context.h"

namespace circuit::rt {

AnalysisResult previous_token_score(const AnalysisContext& context);
AnalysisResult induction_score(const AnalysisContext& context);
AnalysisResult duplicate_token_score(const AnalysisContext& context);
AnalysisResult copying_score(const AnalysisContext& context);

}  // namespace circuit::rt
