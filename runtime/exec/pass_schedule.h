// How each pass of a plan will run, decided before anything runs: the rows per forward under
// the memory budget (chunking), where the unembedding runs, whether the pass keeps its logits
// or a PrefixCache for later passes, and whether it resumes from a clean run's cache and at
// which layer and column. Part of the runtime's execute stage. A pass that does not fit the
// budget even one row at a time is an error here, before the first forward.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compiler/plan/hook_plan.h"
#include "runtime/exec/pass_order.h"
#include "runtime/exec/plan_executor.h"
#include "runtime/model/hooked_model.h"

namespace circuit::rt {

struct ScheduledPass {
  std::size_t index = 0;         // in plan.passes
  std::int64_t rows = 0;         // pass rows
  std::int64_t chunk_rows = 0;   // rows per forward (== rows when it runs whole)
  std::int64_t bytes_per_row = 0;
  LogitsAt logits_at = LogitsAt::All;
  bool keeps_cache = false;      // a later pass resumes from this one's PrefixCache
  bool keeps_logits = false;     // a later kl metric reads this one's logits
  std::optional<ResumePoint> resume;  // from annotations.cache_from's cache
};

// Activation bytes one row of `pass` needs in a forward shaped like `scheduled` (see the .cpp
// for what is counted); the model's dtype sets the element size.
std::int64_t activation_bytes_per_row(const HookedModel& model, const plan::HookPlan& plan,
                                      const plan::Pass& pass, const ScheduledPass& scheduled);

// One entry per pass, in `order`'s order. `held_before` (optional, by pass index): bytes the run
// already holds when each pass starts (run_memory.h), which its forwards cannot use. Throws
// std::invalid_argument, one line naming the pass and the sizes, when one row of a pass is over
// what the budget leaves it.
std::vector<ScheduledPass> schedule_passes(const HookedModel& model, const plan::HookPlan& plan,
                                           const PassOrder& order, const ExecutionOptions& options,
                                           const std::vector<std::int64_t>* held_before = nullptr);

// "1.5 GiB", "640 KiB": budgets and estimates in messages.
std::string format_bytes(std::int64_t bytes);

}  // namespace circuit::rt
