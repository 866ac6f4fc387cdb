// annotate_cache_reuse: records for each intervened pass the first layer and the first position
// an intervention touches, and a clean run over the same input whose cache the executor reuses
// below them (in a causal model nothing before either can change). Adds that clean run when
// none exists and enough rows would reuse it. Part of the plan optimizer stage.
#pragma once

#include "compiler/optimize/optimize_options.h"
#include "compiler/plan/hook_plan.h"

namespace circuit::plan {

HookPlan annotate_cache_reuse(HookPlan plan, const OptimizeOptions& options);

}  // namespace circuit::plan
