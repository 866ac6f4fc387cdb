// The JSON form of MeasuredValues (what earlier stages of a run measured), for
// `circuit compile --measured FILE`, the golden tests' `// measured:` line and a driver that
// keeps its stages on disk. Part of the lowering stage; no libtorch.
//
//   {"scores": {"prev_scores": {"a0.h1": 0.93}}, "circuits": {"found": ["a0.h1->a1.h3<k>"]},
//    "edge_scores": {"found": {"a0.h1->a1.h3<k>": 0.4}}, "values": {"f": 0.82}, "done": ["prev_scores"]}
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "compiler/lower/measured_values.h"

namespace circuit::compiler {

// Every key optional; unknown keys and wrong types throw std::runtime_error naming the key.
MeasuredValues measured_from_json(const nlohmann::json& json);
nlohmann::json measured_to_json(const MeasuredValues& measured);

// Reads a file; errors name the file ("f.json: scores.x.a0.h1: expected a number").
MeasuredValues read_measured_file(const std::string& path);

}  // namespace circuit::compiler
