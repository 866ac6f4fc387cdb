// Turning one sweep into ordinary passes: its items (layer x head x position, layer-major),
// each item's concrete intervention, and the passes that run the items in row chunks. Shared
// by stack_sweeps and expand_sweeps; part of the plan optimizer stage.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "compiler/optimize/optimize_options.h"
#include "compiler/plan/hook_plan.h"

namespace circuit::plan {

struct SweepItem {
  int index = 0;
  std::optional<int> layer, head, position;
};

std::vector<SweepItem> sweep_items(const Sweep& sweep);

// The sweep's intervention for one item: "{layer}" filled in, heads and positions set.
Intervention item_intervention(const Sweep& sweep, const SweepItem& item);

// Passes that run every item of `sweep` on its target pass's rows, at most `rows_per_forward`
// rows each. With `stack`, items share forwards (each item's intervention restricted to its
// rows, recorded as RowSlices); without, each item gets passes of its own. New names avoid
// those in `taken`, which receives them.
std::vector<Pass> lower_sweep(const HookPlan& plan, const Sweep& sweep, int rows_per_forward,
                              bool stack, std::set<std::string>& taken);

// Rows one forward over `batch` may hold under the options' budget (at least 1).
int rows_per_forward(const HookPlan& plan, const std::string& batch, const OptimizeOptions& options);

// Replaces every sweep of the plan by its passes (see lower_sweep), chunked to the budget.
HookPlan lower_sweeps(HookPlan plan, const OptimizeOptions& options, bool stack);

}  // namespace circuit::plan
