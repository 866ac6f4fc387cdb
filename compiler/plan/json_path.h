// JSON paths as the plan layer's errors print them ("passes[3].interventions[0].hook"), shared by
// the JSON reader and the validator. Part of the hook-plan layer.
#pragma once

#include <string>
#include <string_view>

namespace circuit::plan {

inline std::string path_key(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

inline std::string path_index(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

}  // namespace circuit::plan
