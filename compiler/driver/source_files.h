// Expands the FILE|DIR arguments of `circuit check` and `circuit fmt` into .circuit files:
// a folder stands for every .circuit file under it, sorted.
#pragma once

#include <string>
#include <vector>

namespace circuit::compiler {

// A path that is neither a file nor a folder -> std::runtime_error naming it.
std::vector<std::string> expand_circuit_paths(const std::vector<std::string>& paths);

}  // namespace circuit::compiler
