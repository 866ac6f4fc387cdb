// Logit lens: the residual stream after every layer, put through the final norm and the unembedding; the metric per layer. Part of the runtime's analysis stage.
#pragma once

#include "runtime/analysis/analysis_context.h"

namespace circuit::rt {

AnalysisResult logit_lens(const AnalysisContext& context);

}  // namespace circuit::rt
