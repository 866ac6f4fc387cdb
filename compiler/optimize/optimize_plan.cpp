#include "compiler/optimize/optimize_plan.h"

#include <chrono>
#include <iostream>

#include "compiler/optimize/annotate_cache_reuse.h"
#include "compiler/optimize/annotate_logit_positions.h"
#include "compiler/optimize/dedupe_passes.h"
#include "compiler/optimize/drop_dead.h"
#include "compiler/optimize/expand_sweeps.h"
#include "compiler/optimize/prune_saves.h"
#include "compiler/optimize/share_clean_runs.h"
#include "compiler/optimize/stack_sweeps.h"
#include "compiler/plan/plan_json.h"

namespace circuit::plan {
namespace {

using PassFunction = HookPlan (*)(HookPlan, const OptimizeOptions&);

PassFunction function_of(OptimizePass pass) {
  switch (pass) {
    case OptimizePass::StackSweeps: return stack_sweeps;
    case OptimizePass::ExpandSweeps: return expand_sweeps;
    case OptimizePass::ShareCleanRuns: return share_clean_runs;
    case OptimizePass::DedupePasses: return dedupe_passes;
    case OptimizePass::DropDead: return drop_dead;
    case OptimizePass::PruneSaves: return prune_saves;
    case OptimizePass::AnnotateCacheReuse: return annotate_cache_reuse;
    case OptimizePass::AnnotateLogitPositions: return annotate_logit_positions;
  }
  return nullptr;
}

}  // namespace

HookPlan optimize_plan(HookPlan plan, const OptimizeOptions& options, OptimizeReport* report) {
  if (report) report->passes_before = plan.passes.size();
  for (OptimizePass pass : optimize_pass_order()) {
    OptimizeStep step{pass};
    if (!options.disabled.count(pass)) {
      const auto start = std::chrono::steady_clock::now();
      plan = function_of(pass)(std::move(plan), options);
      step.ran = true;
      step.milliseconds =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    }
    step.passes_after = plan.passes.size();
    if (report) report->steps.push_back(step);
    if (options.dump_after == pass) {
      std::ostream& out = options.dump_to ? *options.dump_to : std::cerr;
      out << "// after " << optimize_pass_name(pass) << (step.ran ? "" : " (disabled)") << "\n"
          << dump_plan(plan);
    }
  }
  if (report) report->passes_after = plan.passes.size();
  return plan;
}

size_t count_forwards(const HookPlan& plan) {
  size_t forwards = plan.passes.size();
  for (const Sweep& s : plan.sweeps) forwards += static_cast<size_t>(sweep_item_count(s));
  return forwards;
}

}  // namespace circuit::plan
