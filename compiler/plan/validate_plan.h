// The hook-plan validator shared by the executor and the server: structural checks (every
// reference resolves, no cycles among activation references, hook names exist for the model,
// indices in range, token ids < d_vocab) and resource bounds (PlanLimits). Part of the hook-plan
// layer; a plan that passes it can be executed without further checks on outside input.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/plan/hook_plan.h"

namespace circuit::plan {

// Bounds on what one plan may ask for; a server tightens them per user.
struct PlanLimits {
  int64_t max_rows_per_batch = 4096;         // rows of a token batch or a pass (batch size)
  int64_t max_tokens_per_batch = 1 << 20;    // tokens in one token batch
  int64_t max_passes = 100000;               // passes, sweep items included
  int64_t max_total_tokens = int64_t{1} << 28;  // tokens over every forward the plan runs
  int64_t max_value_elements = 1 << 24;      // floats in replace/add values, all together
  int max_name_length = 256;                 // pass, batch, sweep, experiment and hook names
  int max_issues = 50;                       // check_plan stops collecting after this many
};

// One problem: the JSON path of the offending field and why.
struct PlanIssue {
  std::string path;
  std::string reason;
  std::string message() const { return path + ": " + reason; }
};

// Every problem found (up to limits.max_issues), in plan order; empty when the plan is valid.
std::vector<PlanIssue> check_plan(const HookPlan& plan, const PlanLimits& limits = {});

// Throws PlanError with the first problem.
void validate_plan(const HookPlan& plan, const PlanLimits& limits = {});

}  // namespace circuit::plan
