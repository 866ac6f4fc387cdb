// The check stage's rules for `task` declarations: which properties exist and what each
// holds (prompts, template, slots, corrupt, answers...), and that slots, templates and answer
// lists agree with each other. Model-dependent task checks are in model_checks.cpp.
#pragma once

#include <string>

#include "compiler/ast/ast.h"
#include "compiler/check/types.h"
#include "compiler/diagnostics/diagnostic.h"

namespace circuit::compiler {

// A task's `count` (prompts made from a template or random_tokens): one token batch holds at
// most this many rows (the hook plan's limit), and at least one.
constexpr long long kMinTaskCount = 1;
constexpr long long kMaxTaskCount = 4096;

// The expression typing a task check needs from the type checker.
class ExprTyper {
 public:
  virtual ~ExprTyper() = default;
  virtual Type type_of(const ast::Expr* e) = 0;
  virtual void expect_type(const ast::Expr* e, Type wanted, const std::string& what) = 0;
};

void check_task(const ast::Decl& task, ExprTyper& typer, Diagnostics& diagnostics);

// The property of a task with this name, or null.
const ast::Property* task_property(const ast::Decl& task, const std::string& name);

}  // namespace circuit::compiler
