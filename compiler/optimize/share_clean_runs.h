// share_clean_runs: runs each input's clean forward once. Clean runs (no interventions, no
// backward) over the same rows merge into one that carries all their saves and metrics; freeze
// and batch-referenced mean/resample ablations are pointed at that run (added if missing, with
// the hook saved). Part of the plan optimizer stage.
#pragma once

#include "compiler/optimize/optimize_options.h"
#include "compiler/plan/hook_plan.h"

namespace circuit::plan {

HookPlan share_clean_runs(HookPlan plan, const OptimizeOptions& options);

}  // namespace circuit::plan
