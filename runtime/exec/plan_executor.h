// PlanExecutor: runs a validated, optimized hook plan (compiler/plan/hook_plan.h) on a loaded
// model and returns PlanResults. Part of the runtime's execute stage. Passes run in dependency
// order (sources before readers); interventions become HookSet actions on the pass's rows;
// sweeps arrive already stacked into passes (the optimizer's stack_sweeps), their rows reported
// per item through `slices`; passes that the optimizer annotated with `cache_from` resume from
// that clean run's PrefixCache at their first intervened layer and column; analyses are handed
// to runtime/analysis; claims are evaluated last. The memory budget bounds everything the run
// holds: a plan whose saves, gradients, metrics and kept sources would outgrow it is refused
// before anything runs (run_memory.h), forwards are cut into chunks of rows that fit what the
// budget has left, and the executor counts what it holds as it goes (memory_ledger.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "compiler/plan/hook_plan.h"
#include "runtime/exec/plan_results.h"

namespace circuit::rt {

class HookedModel;

struct ExecutionOptions {
  // Bytes the run may hold: what it keeps (saves, gradients, metrics, sources for later passes,
  // analyses' outputs, the results' copy for writing) plus one forward's activations, which are
  // chunked into what the rest leaves. 0: no limit.
  std::int64_t memory_budget_bytes = std::int64_t{4} << 30;
  // Bytes already held when the plan starts (earlier stages' results), counted against the budget.
  std::int64_t held_bytes = 0;
  // Reuse clean runs' caches for passes annotated with `cache_from` (off: full forwards, for
  // checking that reuse changes nothing and for benchmarks).
  bool reuse_caches = true;
  // Called after each forward (and each analysis step) with (done, total) units of work.
  std::function<void(std::int64_t done, std::int64_t total, const std::string& what)> progress;
  // Checked between forwards; when it becomes true the executor throws ExecutionCancelled.
  const std::atomic<bool>* cancel = nullptr;
};

struct ExecutionCancelled : std::exception {
  const char* what() const noexcept override { return "the run was interrupted"; }
};

// Throws std::invalid_argument (one line: "passes[3] 'x': needs 9.1 GiB of activations, over
// the 4 GiB budget, and one row does not fit"; "the run would keep 517 GiB (...), over the 4 GiB
// memory budget: ...") for a plan that cannot run within the options, before any forward.
PlanResults execute_plan(const HookedModel& model, const plan::HookPlan& plan,
                         const ExecutionOptions& options = {});

}  // namespace circuit::rt
