#include "compiler/optimize/stack_sweeps.h"

#include "compiler/optimize/sweep_lowering.h"

namespace circuit::plan {

// Items of one sweep fill each forward row by row, an item's rows split across two forwards
// when they straddle a boundary, so no forward runs below the budget except the last.
HookPlan stack_sweeps(HookPlan plan, const OptimizeOptions& options) {
  return lower_sweeps(std::move(plan), options, /*stack=*/true);
}

}  // namespace circuit::plan
