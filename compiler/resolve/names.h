// Name resolution, the resolve stage's second half: binds every name in every module (let,
// circuit and task names, circuit parameters, template slots, built-in functions) to what it
// denotes, and reports unknown names (E010, with "did you mean"), duplicates (E011), shadowing
// (W002) and unused circuits (W001).
#pragma once

#include <unordered_map>

#include "compiler/check/builtins.h"
#include "compiler/resolve/program.h"

namespace circuit::compiler {

struct Symbol {
  enum class Kind { Decl, Param, Slot, Builtin } kind = Kind::Decl;
  const ast::Decl* decl = nullptr;      // Decl (let, circuit, task); Param and Slot: the owner
  const Module* module = nullptr;       // where the declaration is
  const ast::Param* param = nullptr;    // Param
  const Builtin* builtin = nullptr;     // Builtin
  std::string name;
};

struct Resolution {
  std::unordered_map<const ast::Expr*, Symbol> names;            // Name and Call expressions
  std::unordered_map<const ast::AddressPart*, Symbol> addresses;  // `head l.6`: l
};

Resolution resolve_names(const Program& program, Diagnostics& diagnostics);

}  // namespace circuit::compiler
