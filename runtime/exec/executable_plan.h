// Makes a validated plan executable when the optimizer has not run over it: sweeps stacked into
// passes (with `slices`, so they are reported per item) and freeze / batch-referenced ablation
// sources pointed at a clean run of their batch (added, saving the hook, when missing). An
// optimized plan passes through unchanged. Part of the runtime's execute stage.
#pragma once

#include <map>
#include <string>

#include "compiler/plan/hook_plan.h"

namespace circuit::rt {

// `sweep_hooks` (optional) receives each stacked sweep's hook pattern, for the sweep results.
plan::HookPlan executable_plan(plan::HookPlan plan, std::map<std::string, std::string>* sweep_hooks = nullptr);

}  // namespace circuit::rt
