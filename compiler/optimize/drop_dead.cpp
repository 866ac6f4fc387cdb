#include "compiler/optimize/drop_dead.h"

#include <algorithm>
#include <set>

#include "compiler/optimize/plan_references.h"

namespace circuit::plan {
namespace {

bool reports_something(const Pass& p) {
  return !p.metrics.empty() || p.backward ||
         std::any_of(p.saves.begin(), p.saves.end(), [](const Save& s) { return s.output; });
}

}  // namespace

HookPlan drop_dead(HookPlan plan, const OptimizeOptions&) {
  // A claim reads its experiment's value, so that experiment stays even when unreported.
  std::set<std::string> claimed;
  for (const Claim& c : plan.claims)
    if (!c.experiment.empty()) claimed.insert(c.experiment);
  std::erase_if(plan.experiments, [&](const Experiment& e) { return !e.report && !claimed.count(e.name); });
  const bool everything_is_root = plan.experiments.empty();
  // Analyses run when a live experiment lists them (all of them in a plan without experiments);
  // they name batches, never passes, and no optimizer pass removes a batch.
  if (!everything_is_root) {
    std::set<std::string> live_analyses;
    for (const Experiment& e : plan.experiments) live_analyses.insert(e.analyses.begin(), e.analyses.end());
    std::erase_if(plan.analyses, [&](const Analysis& a) { return !live_analyses.count(a.name); });
  }
  std::set<std::string> root_passes, live_sweeps;
  for (const Experiment& e : plan.experiments) {
    root_passes.insert(e.passes.begin(), e.passes.end());
    live_sweeps.insert(e.sweeps.begin(), e.sweeps.end());
  }
  if (!everything_is_root)
    std::erase_if(plan.sweeps, [&](const Sweep& s) { return !live_sweeps.count(s.name); });

  // Roots: reported passes with outputs and stacked rows of live sweeps; then everything a live
  // pass or sweep reads from, by worklist (no recursion on long reference chains).
  std::set<std::string> live;
  std::vector<std::string> work;
  auto mark = [&](const std::string& name) {
    if (live.insert(name).second) work.push_back(name);
  };
  for (const Pass& p : plan.passes) {
    const bool listed = everything_is_root || root_passes.count(p.name);
    const bool sweep_rows = std::any_of(p.slices.begin(), p.slices.end(), [&](const RowSlice& s) {
      return everything_is_root || live_sweeps.count(s.sweep);
    });
    if ((listed && reports_something(p)) || sweep_rows) mark(p.name);
  }
  for (const Sweep& s : plan.sweeps) {
    mark(s.target_pass);
    if (!s.intervention.source_pass.empty()) mark(s.intervention.source_pass);
  }
  while (!work.empty()) {
    const std::string name = work.back();
    work.pop_back();
    if (const Pass* p = find_pass(plan, name))
      for (const std::string& read : passes_read_by(*p)) mark(read);
  }
  std::erase_if(plan.passes, [&](const Pass& p) { return !live.count(p.name); });
  for (Experiment& e : plan.experiments)
    std::erase_if(e.passes, [&](const std::string& name) { return !live.count(name); });
  return plan;
}

}  // namespace circuit::plan
