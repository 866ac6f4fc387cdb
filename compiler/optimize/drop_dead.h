// drop_dead: removes experiments nobody reports, and every pass and sweep that no reported
// experiment reaches (directly, or through the passes live passes read from); a reported pass
// with nothing to report (no metric, output save or backward) is dead too. Without experiments,
// every pass is a root. Analyses live while a live experiment lists them; an experiment a claim
// reads stays even when unreported. Part of the plan optimizer stage.
#pragma once

#include "compiler/optimize/optimize_options.h"
#include "compiler/plan/hook_plan.h"

namespace circuit::plan {

HookPlan drop_dead(HookPlan plan, const OptimizeOptions& options);

}  // namespace circuit::plan
