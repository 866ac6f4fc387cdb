// The check stage's types: what an expression of the .circuit language denotes (a component,
// a set, a task, a measured score...), the subtyping rules between them, and their names in
// messages.
#pragma once

#include <string>

namespace circuit::compiler {

enum class Type {
  Error,         // already reported; accepted everywhere to avoid cascades
  Int,
  Float,
  Bool,
  String,
  Range,         // 0..7 (batches)
  Strings,       // a list of strings (prompts, vocabularies, answers)
  Record,        // { IO: names, S: names }
  Component,     // head 9.6, mlp 3 @ -1
  Set,           // heads 9.*, [head 9.6, head 9.9], a | b, heads * where s > 0.5
  Path,          // a -> b.q -> c
  Circuit,       // a named circuit, or a union involving paths
  Task,
  Metric,
  Intervention,
  Interventions, // a list of interventions
  Vector,        // a steering direction
  Scores,        // a number per component (patching sweeps, detectors, DLA)
  Result,        // cached activations, attention patterns, logit lens
  Measurement,   // one measured number (faithfulness, a metric under interventions)
  Scoped,        // circuit on task
  Slot,          // a template slot name
  List,          // a list of something else
};

const char* type_name(Type type);  // "a component", "a task", ...

// Whether a value of type `actual` may stand where `expected` is wanted.
bool accepts(Type expected, Type actual);

// Union, intersection and difference of two graph-like types (Component, Set, Path, Circuit).
Type join_graph(Type a, Type b);
bool is_graph(Type type);

// A circuit parameter's written type ("int", "head", "set"...) or Error if unknown.
Type parameter_type(const std::string& written);
const char* parameter_type_names();  // for the hint of an unknown parameter type

}  // namespace circuit::compiler
