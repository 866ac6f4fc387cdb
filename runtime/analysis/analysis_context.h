// AnalysisContext: what every analysis module (runtime/analysis/*) is given: the model, the
// analysis's concrete arguments from the hook plan, its prompts and the run's options. Part of
// the runtime's analysis stage; run_analysis.h dispatches a plan::Analysis to its module.
#pragma once

#include "compiler/plan/hook_plan.h"
#include "runtime/exec/plan_executor.h"
#include "runtime/exec/plan_results.h"

namespace circuit::rt {

class HookedModel;

struct AnalysisContext {
  const HookedModel& model;
  const plan::Analysis& analysis;
  const plan::TokenBatch& clean;
  const plan::TokenBatch* corrupt;  // null when the analysis names no corrupt batch
  const ExecutionOptions& options;
};

// Every module's entry point has this shape.
using AnalysisFunction = AnalysisResult (*)(const AnalysisContext&);

}  // namespace circuit::rt
