// Type names and subtyping.
#include "compiler/check/types.h"

namespace circuit::compiler {

const char* type_name(Type type) {
  switch (type) {
    case Type::Error: return "an erroneous value";
    case Type::Int: return "an integer";
    case Type::Float: return "a number";
    case Type::Bool: return "true or false";
    case Type::String: return "a string";
    case Type::Range: return "a range";
    case Type::Strings: return "a list of strings";
    case Type::Record: return "a record";
    case Type::Component: return "a component";
    case Type::Set: return "a set of components";
    case Type::Path: return "a path";
    case Type::Circuit: return "a circuit";
    case Type::Task: return "a task";
    case Type::Metric: return "a metric";
    case Type::Intervention: return "an intervention";
    case Type::Interventions: return "a list of interventions";
    case Type::Vector: return "a vector";
    case Type::Scores: return "scores";
    case Type::Result: return "an analysis result";
    case Type::Measurement: return "a measurement";
    case Type::Scoped: return "a circuit on a task";
    case Type::Slot: return "a template slot";
    case Type::List: return "a list";
  }
  return "?";
}

bool is_graph(Type type) {
  return type == Type::Component || type == Type::Set || type == Type::Path || type == Type::Circuit;
}

bool accepts(Type expected, Type actual) {
  if (expected == actual || actual == Type::Error || expected == Type::Error) return true;
  switch (expected) {
    case Type::Float: return actual == Type::Int;
    case Type::Measurement: return actual == Type::Int || actual == Type::Float;
    case Type::Set: return actual == Type::Component;
    case Type::Circuit: return is_graph(actual);
    case Type::Strings: return false;
    default: return false;
  }
}

Type join_graph(Type a, Type b) {
  if (a == Type::Error || b == Type::Error) return Type::Error;
  if (a == Type::Path || b == Type::Path || a == Type::Circuit || b == Type::Circuit) return Type::Circuit;
  return Type::Set;
}

Type parameter_type(const std::string& w) {
  if (w == "int") return Type::Int;
  if (w == "float") return Type::Float;
  if (w == "string") return Type::String;
  if (w == "head" || w == "component") return Type::Component;
  if (w == "set") return Type::Set;
  if (w == "circuit") return Type::Circuit;
  if (w == "task") return Type::Task;
  if (w == "metric") return Type::Metric;
  return Type::Error;
}

const char* parameter_type_names() { return "int, float, string, head, component, set, circuit, task or metric"; }

}  // namespace circuit::compiler
