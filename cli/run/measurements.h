// Recording a stage's results as MeasuredValues: what the next lowering stage reads to resolve
// selectors (`where`, `top`), discovered circuits and claims over them. Part of the run driver
// (cli/run): lower -> execute -> record (here) -> lower again.
#pragma once

#include <optional>
#include <string>

#include "compiler/lower/measured_values.h"
#include "compiler/plan/hook_plan.h"
#include "runtime/exec/plan_results.h"

namespace circuit::cli::run {

// The node id ("a{l}.h{h}", "m{l}", "resid{l}") a sweep item stands for, from the swept hook
// and the item's layer and head; nullopt when the item has no layer.
std::optional<std::string> sweep_item_node(const std::string& hook, const rt::SweepItemResult& item);

// Adds what `results` measured for `plan` to `measured`, keyed by experiment name:
//  - scores: sweeps (one per node; the largest |value| when swept over several positions) and
//    analyses with per-node scores (detectors, DLA, path/attribution patching);
//  - circuits and edge_scores: EAP, EAP-IG and ACDC;
//  - values: circuit measures (the analysis's value), else the first metric mean of the
//    experiment's first pass with metrics (measure());
//  - done: every experiment and claim of the plan.
// Analyses and sweeps no experiment lists are recorded under their own names.
void record_measurements(const plan::HookPlan& plan, const rt::PlanResults& results,
                         compiler::MeasuredValues& measured);

}  // namespace circuit::cli::run
