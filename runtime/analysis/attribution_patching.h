// Attribution patching: a first-order (gradient x activation difference) estimate of activation patching for every node at once. Part of the runtime's analysis stage.
#pragma once

#include "runtime/analysis/analysis_context.h"

namespace circuit::rt {

AnalysisResult attribution_patching(const AnalysisContext& context);

}  // namespace circuit::rt
