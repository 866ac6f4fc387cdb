// Path patching: the effect of each sender on the metric through the receivers only (Wang et al. 2022). Part of the runtime's analysis stage.
#pragma once

#include "runtime/analysis/analysis_context.h"

namespace circuit::rt {

AnalysisResult path_patching(const AnalysisContext& context);

}  // namespace circuit::rt
