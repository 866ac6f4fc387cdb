// expand_sweeps: replaces any sweep still in the plan (stack_sweeps disabled) by one pass per
// item (chunked only when one item's rows exceed the budget), so the executor never sees a
// sweep. Part of the plan optimizer stage.
#pragma once

#include "compiler/optimize/optimize_options.h"
#include "compiler/plan/hook_plan.h"

namespace circuit::plan {

HookPlan expand_sweeps(HookPlan plan, const OptimizeOptions& options);

}  // namespace circuit::plan
