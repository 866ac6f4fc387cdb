// Sweep results from stacked passes: the optimizer's `slices` say which pass rows are which
// sweep item; each item's value is the mean over its rows of the pass's first metric
// (normalized when the metric says so), its rows possibly spread over two forwards. Part of the
// runtime's execute stage.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "compiler/plan/hook_plan.h"
#include "runtime/exec/plan_results.h"

namespace circuit::rt {

// `passes[i]` is plan.passes[i]'s result. `sweep_hooks` gives a sweep's hook pattern when the
// executor lowered the sweeps itself; otherwise it is read back from the item's intervention.
std::vector<SweepResult> report_sweeps(const plan::HookPlan& plan, const std::vector<PassResult>& passes,
                                       const std::map<std::string, std::string>& sweep_hooks = {});

// "blocks.3.attn.hook_z" for layer 3 -> "blocks.{layer}.attn.hook_z".
std::string hook_pattern(const std::string& hook, int layer);

}  // namespace circuit::rt
