// Measures of a circuit (a set of edges): faithfulness, completeness, minimality, and MIB's CPR and CMD over a curve of top-k circuits. Part of the runtime's analysis stage.
//
// Definitions (MIB, Mueller et al. 2025). A circuit C is a set of edges of the model's full
// graph (runtime/analysis/edge_graph.h), given in context.analysis.edges. m(X) is the mean over
// the clean prompts of the analysis metric with every edge outside X ablated as the analysis
// says (patch from the corrupt prompts, mean, zero; graph_forward.h). Without a metric (or with
// kl) m is KL(full model || graph) at each prompt's last token, so m(full) = 0.
//   faithfulness(C) = (m(C) - m(empty)) / (m(full) - m(empty))
//   completeness(C) = 1 - (m(full \ C) - m(empty)) / (m(full) - m(empty))
//   minimality(C)   = min over e in C of (m(C) - m(C \ e)) / (m(full) - m(empty))
//                     (each edge's value also in AnalysisResult::edges)
//   circuit_curve:    f(k) = faithfulness of the top k% of context.analysis.edges ranked by
//                     |edge_scores| (ceil(k% * n) edges, ties in the given order), for
//                     k in {0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100};
//                     CPR = area under f, CMD = area under |1 - f|, trapezoids over k as a
//                     fraction (0.001 .. 1). tensors "curve" (f) and "percent" (k).
// AnalysisResult::value is the measure (CPR for the curve); values hold m_full, m_empty and
// m_circuit (the curve: cpr, cmd). Throws std::invalid_argument (one line) for an unknown
// edge, when m(full) == m(empty) (nothing to normalize by), or a circuit too large to measure
// edge by edge (minimality).
#pragma once

#include "runtime/analysis/analysis_context.h"

namespace circuit::rt {

AnalysisResult faithfulness(const AnalysisContext& context);
AnalysisResult completeness(const AnalysisContext& context);
AnalysisResult minimality(const AnalysisContext& context);
AnalysisResult circuit_curve(const AnalysisContext& context);

}  // namespace circuit::rt
