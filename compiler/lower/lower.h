// The lowering stage: turns a checked program's tasks, metrics, interventions and experiments
// into one hook plan (compiler/plan/hook_plan.h) for the main file's model. Tasks become token
// batches (templates filled with a seeded RNG), components become hook names from the shared
// hook-point table, measure/cache/attention/patch_sweep become passes and sweeps, detectors,
// logit lens, DLA, path/attribution patching, EAP/EAP-IG/ACDC and circuit measures become
// analyses, and every `expect` becomes a claim. Lowering runs in stages (measured_values.h):
// what needs a measurement not yet in `measured` (a `where`/`top()` selector, a discovered
// circuit, a score) is left for a later stage.
#pragma once

#include "compiler/driver/compilation.h"
#include "compiler/lower/measured_values.h"
#include "compiler/plan/hook_plan.h"

namespace circuit::compiler {

// `c` must have no errors and a model with a tokenizer (E050 otherwise). `measured` holds what
// earlier stages measured; experiments in `measured.done` are not lowered again. With
// `report_pending` (`circuit compile`, and the last stage of `circuit run`), everything left
// out gets a W050: pending work ("runs in a later stage of `circuit run`") and constructs that
// cannot be lowered at all ("is not in the hook plan"). Without it, nothing is reported.
plan::HookPlan lower_program(const Compilation& c, Diagnostics& diagnostics, const MeasuredValues& measured = {},
                             bool report_pending = true);

// The name of the claim an `expect` of the main file `main` becomes: "expect.LINE", or
// "expect.LINE.COL" when two claims share the line. What results and `circuit test` key on.
std::string claim_name(const ast::File& main, const ast::Decl& expect);

}  // namespace circuit::compiler
