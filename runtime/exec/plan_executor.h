// PlanExecutor: runs a validated, optimized hook plan (compiler/plan/hook_plan.h) on a loaded
// model and returns PlanResults. Part of the runtime's execute stage. Passes run in dependency
// order (sources before readers); interventions become HookSet actions on the pass's rows;
// sweeps arrive already stacked into passes (the optimizer's stack_sweeps), their rows reported
// per item through `slices`; passes that the optimizer annotated with `cache_from` resume from
// that clean run's PrefixCache at their first intervened layer and column; analyses are handed
// to runtime/analysis; claims are evaluated last. Passes larger than the memory budget are cut
// into chunks of rows; a pass that cannot be cut small enough is an error before anything runs.
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
  // Bytes of activations one forward may hold (the chunking budget). 0: no limit.
  std::int64_t memory_budget_bytes = std::int64_t{4} << 30;
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
// the 4 GiB budget, and one row does not fit") for a plan that cannot run within the options.
PlanResults execute_plan(const HookedModel& model, const plan::HookPlan& plan,
                         const ExecutionOptions& options = {});

}  // namespace circuit::rt
