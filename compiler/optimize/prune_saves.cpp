#include "compiler/optimize/prune_saves.h"

#include <algorithm>
#include <map>
#include <set>

#include "compiler/optimize/plan_references.h"
#include "compiler/optimize/sweep_lowering.h"

namespace circuit::plan {

HookPlan prune_saves(HookPlan plan, const OptimizeOptions&) {
  std::map<std::string, std::set<std::string>> read;  // pass -> hooks other passes read
  auto note = [&](const Intervention& in) {
    if (!in.source_pass.empty()) read[in.source_pass].insert(in.hook);
  };
  for (const Pass& p : plan.passes)
    for (const Intervention& in : p.interventions) note(in);
  for (const Sweep& s : plan.sweeps)  // sweeps not lowered (stacking and expansion disabled)
    for (const SweepItem& item : sweep_items(s)) note(item_intervention(s, item));

  for (Pass& p : plan.passes) {
    const std::set<std::string>& needed = read[p.name];
    std::vector<Save> kept;
    for (Save& s : p.saves) {
      const bool wanted = s.output || (needed.count(s.hook) && s.select == Selection{});
      if (wanted && std::find(kept.begin(), kept.end(), s) == kept.end()) kept.push_back(std::move(s));
    }
    p.saves = std::move(kept);
    for (const std::string& hook : needed) ensure_saved(p, hook);
  }
  return plan;
}

}  // namespace circuit::plan
