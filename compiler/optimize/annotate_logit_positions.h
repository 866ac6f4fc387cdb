// annotate_logit_positions: records, for each pass, whether anything reads its logits and at
// which positions (its metrics' positions, and those of kl metrics that use it as reference),
// so the executor computes the unembedding only there. Part of the plan optimizer stage.
#pragma once

#include "compiler/optimize/optimize_options.h"
#include "compiler/plan/hook_plan.h"

namespace circuit::plan {

HookPlan annotate_logit_positions(HookPlan plan, const OptimizeOptions& options);

}  // namespace circuit::plan
