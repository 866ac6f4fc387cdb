// The optimizer driver: runs the named passes of optimize_options.h over a valid hook plan in
// their documented order, skipping disabled ones, timing each and dumping the plan after one.
// Part of the plan optimizer stage (after lowering, before the executor).
#pragma once

#include <string>
#include <vector>

#include "compiler/optimize/optimize_options.h"
#include "compiler/plan/hook_plan.h"

namespace circuit::plan {

struct OptimizeStep {
  OptimizePass pass;
  bool ran = false;
  double milliseconds = 0;
  size_t passes_after = 0;  // plan.passes.size() after the step
};

struct OptimizeReport {
  std::vector<OptimizeStep> steps;
  size_t passes_before = 0;
  size_t passes_after = 0;
};

// `plan` must pass validate_plan(); the result does too. `report` (optional) gets the steps.
HookPlan optimize_plan(HookPlan plan, const OptimizeOptions& options, OptimizeReport* report = nullptr);

// Forwards a plan runs as given: its passes plus one per sweep item (sweeps not yet stacked).
size_t count_forwards(const HookPlan& plan);

}  // namespace circuit::plan
