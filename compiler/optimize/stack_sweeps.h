// stack_sweeps: replaces each sweep by batched passes that stack its items along the batch
// dimension, chunked to the memory budget, so an all-heads patching sweep over N prompts runs
// in ceil(N x items / rows per forward) forwards. Part of the plan optimizer stage.
#pragma once

#include "compiler/optimize/optimize_options.h"
#include "compiler/plan/hook_plan.h"

namespace circuit::plan {

HookPlan stack_sweeps(HookPlan plan, const OptimizeOptions& options);

}  // namespace circuit::plan
