// Claim verdicts: each plan::Claim's measured value (a constant known while lowering, or its
// experiment's value: the first analysis's `value`, else the first metric mean of the
// experiment's passes) compared with its threshold. Part of the runtime's execute stage; runs
// after every pass and analysis.
#pragma once

#include <vector>

#include "compiler/plan/hook_plan.h"
#include "runtime/exec/plan_results.h"

namespace circuit::rt {

// Throws std::invalid_argument ("claims[1] 'expect.27': ...") for a claim whose experiment
// measured no value or whose comparator is unknown.
std::vector<ClaimResult> evaluate_claims(const plan::HookPlan& plan, const PlanResults& results);

// `measured comparator threshold`; == and != allow a relative tolerance of 1e-9.
bool compare(double measured, const std::string& comparator, double threshold);

}  // namespace circuit::rt
