// What a run keeps, estimated from its hook plan alone (no weights): every output save, gradient
// and per-row metric kept to the end of the run and copied once more to be written, the
// activations, logits and caches held for later passes until their last reader, and the
// analyses' outputs; the peak of these over the passes in execution order is checked against
// the memory budget before anything runs. Part of the runtime's execute stage (the executor
// calls it; tests call it on a model's shape).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/plan/hook_plan.h"
#include "runtime/exec/plan_executor.h"

namespace circuit::rt {

// One contributor to the peak: "passes[0] 'patterns': 30 saves of 2048 rows x 501 tokens".
struct KeptPart {
  std::string what;
  std::int64_t bytes = 0;
};

struct KeptEstimate {
  std::int64_t peak = 0;        // the most bytes held at once (held_bytes included)
  std::vector<KeptPart> parts;  // what is held at the peak, largest first
  // Per pass (by index in plan.passes): bytes held when it starts, what its forwards cannot use.
  std::vector<std::int64_t> held_before;
};

// `element_bytes`: the model's dtype (4 for f32, 2 for f16/bf16); outputs are f32 whatever it
// is. `options.held_bytes` (earlier stages' results) is part of every moment's total, and
// `options.reuse_caches` says whether clean runs keep caches for their readers. The plan must be
// executable (executable_plan) and its model shape of a known family.
KeptEstimate estimate_kept_bytes(const plan::HookPlan& plan, int element_bytes, const ExecutionOptions& options);

// Throws std::invalid_argument, one line with the numbers and what to change, when the estimate
// is over options.memory_budget_bytes (0: no limit); returns the estimate otherwise.
KeptEstimate check_kept_bytes(const plan::HookPlan& plan, int element_bytes, const ExecutionOptions& options);

// "the run would keep 517 GiB (...), over the 4 GiB memory budget: ..." with the hint: the
// message both the estimate and the executor's own accounting (MemoryLedger) refuse with.
std::string over_budget_message(std::int64_t bytes, const std::string& what, std::int64_t budget);

}  // namespace circuit::rt
