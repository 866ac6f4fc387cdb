// The results of a run on disk (the contract in README.md, "Running circuits"): DIR/circuit.json (the
// interchange document), DIR/results.json (every experiment's numbers) and
// DIR/tensors.safetensors ("<experiment>/<key>" tensors). The three are committed as a set
// (results_commit.h): written into a temporary folder beside DIR, flushed, and switched into
// DIR's place in one step, so a crash, an error or Ctrl-C leaves DIR with the complete old set
// or the complete new one. Part of the results layer (cli/run).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "compiler/interchange/circuit_document.h"
#include "compiler/plan/hook_plan.h"
#include "run/run_context.h"
#include "run/run_session.h"

namespace circuit::cli::run {

// results.json: the run (source, model, conditions, stages, forwards, seconds), each reported
// experiment (kind, stage, metric values per pass, sweep items, analysis node and edge scores,
// discovered circuit, value), what was measured, and the claims (measured and not).
nlohmann::json results_to_json(const RunOutcome& outcome, const RunContext& context);

// "<experiment>/<key>" -> tensor: a sweep's scores [n_layers, n_heads] ([n_layers] without
// heads; a trailing positions axis when swept over several positions; NaN where not swept),
// each analysis tensor, each pass's output saves ("<experiment>/<hook>") and gradients
// ("<experiment>/grad/<hook>").
std::map<std::string, plan::Tensor> results_tensors(const RunOutcome& outcome);

// Writes the three files as `dir` (created when missing; any other file in an old `dir` goes
// with the old set). `cancel` (optional) is checked once everything is written and before the
// switch: when set, the temporary folder is removed and rt::ExecutionCancelled is thrown,
// leaving DIR as it was.
void write_results(const std::string& dir, const interchange::CircuitDocument& document,
                   const nlohmann::json& results, const std::map<std::string, plan::Tensor>& tensors,
                   const std::atomic<bool>* cancel = nullptr);

}  // namespace circuit::cli::run
