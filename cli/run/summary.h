// The readable summary of a run, printed by `circuit run` and `circuit test`: the top heads of
// each measured score, each measured value, the circuits measured, and each claim as PASS or
// FAIL with claimed against measured. Part of the results layer (cli/run).
#pragma once

#include <iosfwd>
#include <string>

#include "run/run_context.h"
#include "run/run_session.h"

namespace circuit::cli::run {

// "a1.h3" -> "head 1.3", "m2" -> "mlp 2"; other ids as they are.
std::string component_name(const std::string& node_id);

// The header line, scores, values and circuits (`circuit run`).
void print_summary(std::ostream& out, const RunOutcome& outcome, const RunContext& context, int top = 5);

// One line per claim: "PASS  expr >= 0.8  measured 0.93  (file:27:1)"; unmeasured claims as
// "NOT RUN". Returns the number of claims that failed or did not run.
int print_claims(std::ostream& out, const RunOutcome& outcome);

}  // namespace circuit::cli::run
