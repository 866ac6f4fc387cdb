// The format stage (`circuit fmt`): prints an AST back as canonical .circuit text, keeping
// every comment. Idempotent: formatting formatted text changes nothing.
#pragma once

#include <string>

#include "compiler/ast/ast.h"

namespace circuit::compiler {

inline constexpr int kFormatWidth = 100;

std::string format_file(const ast::File& file);
// One expression on one line (diagnostics, the AST dump, lowering names).
std::string format_expr(const ast::Expr& e);

}  // namespace circuit::compiler
