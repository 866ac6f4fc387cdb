// The closest candidate name for "did you mean" hints.
#include "compiler/diagnostics/edit_distance.h"

#include <algorithm>

namespace circuit::compiler {

std::string closest_name(std::string_view name, const std::vector<std::string>& candidates) {
  int limit = std::max<int>(1, static_cast<int>(name.size()) / 3);
  std::string best;
  int best_distance = limit + 1;
  for (const auto& candidate : candidates) {
    if (candidate == name) continue;
    int d = static_cast<int>(edit_distance(name, candidate));
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates) {
  std::string best = closest_name(name, candidates);
  return best.empty() ? std::string() : "did you mean '" + best + "'?";
}

}  // namespace circuit::compiler
