// Direct logit attribution: each head's and MLP's direct contribution to the metric's logit direction, through the clean run's final-norm scale. Part of the runtime's analysis stage.
#pragma once

#include "runtime/analysis/analysis_context.h"

namespace circuit::rt {

AnalysisResult direct_logit_attribution(const AnalysisContext& context);

}  // namespace circuit::rt
