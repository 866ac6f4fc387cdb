// Edge attribution patching (EAP) and EAP with integrated gradients (EAP-IG): a score per edge of the full graph, and the top edges as a circuit. Part of the runtime's analysis stage.
#pragma once

#include "runtime/analysis/analysis_context.h"

namespace circuit::rt {

// Runs EAP or EAP-IG by context.analysis.kind.
AnalysisResult edge_attribution_patching(const AnalysisContext& context);

}  // namespace circuit::rt
