// ACDC (Conmy et al. 2023): prune the full graph edge by edge, keeping an edge only when removing it changes the metric by at least the threshold. Part of the runtime's analysis stage.
#pragma once

#include "runtime/analysis/analysis_context.h"

namespace circuit::rt {

AnalysisResult acdc(const AnalysisContext& context);

}  // namespace circuit::rt
