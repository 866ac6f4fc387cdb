// The lowering stage: turns a checked program's tasks, metrics, interventions and experiments
// into one hook plan (compiler/plan/hook_plan.h) for the main file's model. Tasks become token
// batches (templates filled with a seeded RNG), components become hook names from the shared
// hook-point table, and each experiment becomes passes and sweeps. Constructs whose value the
// runtime must measure first (selectors, top(), discovery algorithms, circuit measures) are
// reported as W050 and left out of the plan.
#pragma once

#include "compiler/driver/compilation.h"
#include "compiler/lower/measured_values.h"
#include "compiler/plan/hook_plan.h"

namespace circuit::compiler {

// `c` must have no errors and a model with a tokenizer (E050 otherwise). `measured` holds what
// earlier stages measured; what still depends on an unmeasured value is left for a later
// stage (W050 when `report_pending`, as `circuit compile` wants).
plan::HookPlan lower_program(const Compilation& c, Diagnostics& diagnostics, const MeasuredValues& measured = {},
                             bool report_pending = true);

}  // namespace circuit::compiler
