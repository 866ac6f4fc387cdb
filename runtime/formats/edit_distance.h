// Edit distance between names: the one measure behind every "did you mean" hint (unknown
// models and hook points here, unknown names in the compiler). Libtorch-free, lowest layer.
#pragma once

#include <cstddef>
#include <string_view>

namespace circuit::formats {

// Optimal string alignment distance: insertions, deletions, substitutions and adjacent
// transpositions each cost 1 ("logti" is one edit from "logit").
size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace circuit::formats
