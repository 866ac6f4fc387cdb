// LoweredTask: a task as the lowering stage turns it into token batches (private to lower/):
// the rows' ids and pieces, each row's answer ids, and where each template slot landed.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "compiler/ast/ast.h"
#include "compiler/check/model_info.h"
#include "compiler/plan/hook_plan.h"
#include "compiler/resolve/names.h"

namespace circuit::compiler {

struct LoweredTask {
  std::string clean_batch;    // batch names in the plan
  std::string corrupt_batch;  // "" when the task has no corrupt prompts
  std::vector<std::vector<std::string>> pieces;  // tokens of each clean row (without BOS)
  std::vector<int32_t> answers, wrong;           // per row; empty when the task has none
  std::map<std::string, std::vector<int>> slot_positions;  // slot -> its last token, per row
  int offset = 0;  // 1 when rows start with BOS
};

// Adds the task's batches to `plan` and returns how to address them.
LoweredTask lower_task(const ast::Decl& task, const Resolution& resolution, const ModelInfo& model,
                       plan::HookPlan& plan);

}  // namespace circuit::compiler
