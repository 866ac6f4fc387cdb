// dedupe_passes: passes identical but for their names run once; every reference to a
// duplicate is rewritten to the survivor. Part of the plan optimizer stage.
#pragma once

#include "compiler/optimize/optimize_options.h"
#include "compiler/plan/hook_plan.h"

namespace circuit::plan {

HookPlan dedupe_passes(HookPlan plan, const OptimizeOptions& options);

}  // namespace circuit::plan
