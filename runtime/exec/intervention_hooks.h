// Turns a plan::Intervention into a HookSet action for one forward: the selection (pass rows,
// prompt positions per row, heads, neurons) becomes a mask over the activation, and the action
// (replace, add, scale, zero, patch_from, mean_ablate, resample_ablate, freeze) its new value,
// sources read by batch row from earlier passes' saved activations. Part of the runtime's
// execute stage, used by the pass runner.
#pragma once

#include <cstdint>
#include <string>

#include "compiler/plan/hook_plan.h"
#include "runtime/exec/row_layout.h"
#include "runtime/exec/saved_passes.h"

namespace circuit::rt {

class HookSet;

// The rows of one forward: its layout (batch row, length, first column of each row) and the
// pass row its row 0 is (a chunk of a pass starts past 0).
struct ForwardRows {
  RowLayout layout;
  std::int64_t first_pass_row = 0;
};

// Registers `intervention` on `hooks`. The action runs on whatever columns the forward computes
// at that point (a resumed forward computes only the last ones; the mask follows). `where` names
// the intervention in errors ("passes[3] 'x': interventions[0]"). Throws std::invalid_argument
// when a source pass is missing, did not save the hook, or holds none of a row's prompts.
void add_intervention(HookSet& hooks, const plan::Intervention& intervention, const ForwardRows& rows,
                      const SavedPasses& saved, const std::string& where);

// Pass row `row`'s draw among `count` source rows for resample ablation with `seed`: a hash, so
// the draw does not depend on how the pass is cut into chunks.
std::int64_t resample_pick(std::uint64_t seed, std::int64_t row, std::int64_t count);

}  // namespace circuit::rt
