// The check stage: types of every expression, the rules of each construct (task properties,
// call arguments, claims), and, when the model is known, checks against its shape and
// tokenizer (layer/head/neuron ranges, single-token answers, equal-length templates,
// positions that exist in every prompt).
#pragma once

#include <unordered_map>

#include "compiler/check/model_info.h"
#include "compiler/check/types.h"
#include "compiler/resolve/names.h"

namespace circuit::compiler {

struct TypeTable {
  std::unordered_map<const ast::Expr*, Type> types;
  // A built-in call's argument for each of its parameters (null where not given), after
  // named arguments and `C on T` are sorted out.
  std::unordered_map<const ast::Expr*, std::vector<const ast::Expr*>> call_args;
  Type of(const ast::Expr* e) const {
    auto it = types.find(e);
    return it == types.end() ? Type::Error : it->second;
  }
};

TypeTable check_types(const Program& program, const Resolution& resolution, Diagnostics& diagnostics);

// Shape and tokenizer checks of the modules that run on `model` (the main file and the files
// it uses that name no model of their own).
void check_against_model(const Program& program, const Resolution& resolution, const TypeTable& types,
                         const ModelInfo& model, Diagnostics& diagnostics);

// The model a program runs on: `override_name` when given, else the main file's `model`
// declaration; "" when neither. Reports E047 for a second model declaration.
std::string model_name_of(const Program& program, const std::string& override_name, Span* where,
                          Diagnostics& diagnostics);

// Template helpers shared by checks and lowering: the {SLOT} names in a template, in order.
std::vector<std::string> template_slots(const std::string& text);

}  // namespace circuit::compiler
