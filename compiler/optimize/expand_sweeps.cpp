#include "compiler/optimize/expand_sweeps.h"

#include "compiler/optimize/sweep_lowering.h"

namespace circuit::plan {

HookPlan expand_sweeps(HookPlan plan, const OptimizeOptions& options) {
  return lower_sweeps(std::move(plan), options, /*stack=*/false);
}

}  // namespace circuit::plan
