// Runs one pass of a hook plan: its virtual batch rows, cut into the chunks its schedule says,
// each chunk one forward (full, resumed from a clean run's PrefixCache, or keeping one) with the
// pass's interventions, saves and gradient requests on a HookSet; then its metrics per row, the
// backward of a metric's mean, and what later passes read. Part of the runtime's execute stage.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "compiler/plan/hook_plan.h"
#include "runtime/exec/memory_ledger.h"
#include "runtime/exec/pass_schedule.h"
#include "runtime/exec/plan_executor.h"
#include "runtime/exec/saved_passes.h"
#include "runtime/model/token_batch.h"

namespace circuit::rt {

struct PassRun {
  std::vector<std::vector<double>> metrics;  // per metric of the pass, per pass row, unnormalized
  std::map<std::string, plan::Tensor> saves;      // output saves, their selections applied
  std::map<std::string, plan::Tensor> gradients;  // d (metric mean) / d activation, [rows, ...]
  SavedPass left;  // activations, logits and cache for later passes (as the schedule asks)
  int forwards = 0;
  int backwards = 0;
  int resumed_forwards = 0;
};

struct PassRunContext {
  const HookedModel& model;
  const plan::HookPlan& plan;
  const ExecutionOptions& options;
  const SavedPasses& saved;                  // what earlier passes left
  std::map<std::string, TokenBatch>& batches;  // each plan batch padded whole, made on first use
  std::function<void(const std::string& what)> forward_done;  // progress, after each forward
  const MemoryLedger* ledger = nullptr;  // checked as a pass's kept parts grow, chunk by chunk
};

// `keep_activations`: whether later passes read this pass's saved activations.
PassRun run_pass(const PassRunContext& context, const ScheduledPass& scheduled, bool keep_activations);

// The padded whole of a plan batch (made once; every forward over the batch shares its columns).
const TokenBatch& padded_batch(const PassRunContext& context, const std::string& name);

}  // namespace circuit::rt
