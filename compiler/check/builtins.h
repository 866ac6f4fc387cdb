// The table of built-in functions of the .circuit language (metrics, interventions,
// experiments, head detectors, claims' measures and helpers): one row each with its
// parameters and result type. The checker, lowering and docs/language.md read this table.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/check/types.h"

namespace circuit::compiler {

enum class BuiltinGroup { Metric, Intervention, Experiment, Detector, Measure, Helper };

struct BuiltinParam {
  std::string_view name;
  Type type;
  bool required;
};

struct Builtin {
  std::string_view name;
  BuiltinGroup group;
  std::vector<BuiltinParam> params;
  Type result;
  std::string_view doc;
  // A metric may be named without a call (`metric: logit_diff`).
  bool callable_bare() const { return group == BuiltinGroup::Metric; }
};

std::span<const Builtin> builtins();
const Builtin* find_builtin(std::string_view name);
std::vector<std::string> builtin_names();
const char* builtin_group_name(BuiltinGroup group);

}  // namespace circuit::compiler
