// prune_saves: each pass saves exactly what something reads: the saves the results layer
// reports (output), plus a full save of every hook point another pass patches, ablates or
// freezes from it (added when missing); every other save goes. Part of the plan optimizer stage.
#pragma once

#include "compiler/optimize/optimize_options.h"
#include "compiler/plan/hook_plan.h"

namespace circuit::plan {

HookPlan prune_saves(HookPlan plan, const OptimizeOptions& options);

}  // namespace circuit::plan
