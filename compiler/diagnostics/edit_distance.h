// The shared "did you mean" helper of the diagnostics stage: edit distance and the closest
// candidate name, used by every check that reports an unknown name.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace circuit::compiler {

// Levenshtein distance (insertions, deletions, substitutions; transpositions count 1).
int edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `name`, or "" when none is within about a third of its length.
std::string closest_name(std::string_view name, const std::vector<std::string>& candidates);

// "did you mean 'x'?" or "" when there is no close candidate.
std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace circuit::compiler
