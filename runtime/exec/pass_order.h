// The order the executor runs a plan's passes in: every pass after the passes it reads
// (patch, ablation and freeze sources, kl references, the clean run it resumes from), otherwise
// in plan order; and, for each pass, how many later passes read it, so that what it leaves
// behind can be let go after the last one. Part of the runtime's execute stage.
// Normalization baselines are not ordering constraints: metrics are normalized after every pass
// has run (a clean and a corrupt run normalize against each other).
#pragma once

#include <cstddef>
#include <vector>

#include "compiler/plan/hook_plan.h"

namespace circuit::rt {

struct PassOrder {
  std::vector<std::size_t> order;    // indices into plan.passes
  std::vector<int> activation_readers;  // per pass: passes reading its saved activations
  std::vector<int> logits_readers;      // per pass: passes whose kl metric reads its logits
  std::vector<int> cache_readers;       // per pass: passes naming it in cache_from
};

// Throws std::invalid_argument naming a pass on a cycle of references (the validator rejects
// such plans; this guards plans that skipped it).
PassOrder order_passes(const plan::HookPlan& plan);

}  // namespace circuit::rt
