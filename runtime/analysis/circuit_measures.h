// Measures of a circuit (a set of edges): faithfulness, completeness, minimality, and MIB's CPR and CMD over a curve of top-k circuits. Part of the runtime's analysis stage.
#pragma once

#include "runtime/analysis/analysis_context.h"

namespace circuit::rt {

AnalysisResult faithfulness(const AnalysisContext& context);
AnalysisResult completeness(const AnalysisContext& context);
AnalysisResult minimality(const AnalysisContext& context);
AnalysisResult circuit_curve(const AnalysisContext& context);

}  // namespace circuit::rt
