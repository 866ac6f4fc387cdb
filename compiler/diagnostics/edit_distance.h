// The shared "did you mean" helper of the diagnostics stage: edit distance and the closest
// candidate name, used by every check that reports an unknown name.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runtime/formats/edit_distance.h"

namespace circuit::compiler {

// The distance itself is the formats layer's (one measure for every hint in the project).
using formats::edit_distance;

// The candidate nearest to `name`, or "" when none is within about a third of its length.
std::string closest_name(std::string_view name, const std::vector<std::string>& candidates);

// "did you mean 'x'?" or "" when there is no close candidate.
std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace circuit::compiler
