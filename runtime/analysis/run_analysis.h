// The analysis dispatcher: one row per plan::AnalysisKind naming the module that runs it.
// Part of the runtime's analysis stage; the plan executor calls it for each plan analysis.
#pragma once

#include "runtime/analysis/analysis_context.h"

namespace circuit::rt {

// Throws std::invalid_argument ("analyses[2] 'x': ...") for arguments the module rejects.
AnalysisResult run_analysis(const HookedModel& model, const plan::HookPlan& plan, const plan::Analysis& analysis,
                            const ExecutionOptions& options);

}  // namespace circuit::rt
