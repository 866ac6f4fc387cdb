// The AST as JSON (`circuit compile --emit ast`): every node with its kind, fields and span
// (line:col), doc comments included. Read by golden tests and tools.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "compiler/ast/ast.h"

namespace circuit::compiler::ast {

nlohmann::json to_json(const File& file);
nlohmann::json to_json(const Expr& e);

}  // namespace circuit::compiler::ast
