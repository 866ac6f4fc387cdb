#include "runtime/exec/executable_plan.h"

#include "compiler/optimize/optimize_options.h"
#include "compiler/optimize/plan_references.h"
#include "compiler/optimize/stack_sweeps.h"

namespace circuit::rt {

plan::HookPlan executable_plan(plan::HookPlan plan, std::map<std::string, std::string>* sweep_hooks) {
  if (!plan.sweeps.empty()) {
    if (sweep_hooks)
      for (const plan::Sweep& s : plan.sweeps) (*sweep_hooks)[s.name] = s.intervention.hook;
    plan = plan::stack_sweeps(std::move(plan), plan::OptimizeOptions{});
  }
  for (size_t i = 0; i < plan.passes.size(); ++i) {
    for (size_t j = 0; j < plan.passes[i].interventions.size(); ++j) {
      const plan::Intervention& in = plan.passes[i].interventions[j];
      if (!in.source_pass.empty()) continue;
      std::string batch;
      if (in.action == plan::Action::Freeze) batch = plan.passes[i].batch;
      if (in.action == plan::Action::MeanAblate || in.action == plan::Action::ResampleAblate) batch = in.source_batch;
      if (batch.empty()) continue;
      const std::string hook = in.hook;
      const size_t clean = plan::clean_run_for(plan, batch);  // may grow plan.passes
      plan::ensure_saved(plan.passes[clean], hook);
      plan::Intervention& resolved = plan.passes[i].interventions[j];
      resolved.source_pass = plan.passes[clean].name;
      resolved.source_batch.clear();
    }
  }
  return plan;
}

}  // namespace circuit::rt
