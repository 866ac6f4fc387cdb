#include "compiler/optimize/dedupe_passes.h"

#include <map>

#include "compiler/optimize/plan_references.h"
#include "compiler/plan/plan_json.h"

namespace circuit::plan {

HookPlan dedupe_passes(HookPlan plan, const OptimizeOptions&) {
  // Renaming a duplicate can make two readers of it identical in turn, so repeat to a fixpoint.
  for (;;) {
    std::map<std::string, std::string> renamed;
    std::map<std::string, std::string> by_content;  // JSON of the pass without its name -> name
    std::vector<Pass> kept;
    for (Pass& p : plan.passes) {
      Pass anonymous = p;
      anonymous.name.clear();
      auto [it, inserted] = by_content.emplace(pass_to_json(anonymous).dump(), p.name);
      if (inserted) {
        kept.push_back(std::move(p));
      } else {
        renamed[p.name] = it->second;
      }
    }
    plan.passes = std::move(kept);
    if (renamed.empty()) break;
    rename_pass_references(plan, renamed);
  }
  return plan;
}

}  // namespace circuit::plan
