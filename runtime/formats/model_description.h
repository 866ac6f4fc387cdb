// A model described for clients without loading it: ModelSummary (family and shape) and
// ModelTree (the summary, the parameter count and every hook point of every layer with its
// shape), from its config and the one hook point table. Part of the formats layer (no libtorch):
// `circuit serve` answers GET /api/model with it, and `circuit view --export` puts it in reports.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "runtime/formats/model_source.h"

namespace circuit::formats {

// {"name", "family", "n_layers", "n_heads", "n_kv_heads", "d_model", "d_head", "d_mlp",
//  "d_vocab", "n_ctx"}
nlohmann::json model_summary_json(const formats::ModelSource& model);

// The summary plus {"parameters", "dtype", "hook_points": [{"name", "layer", "shape", "doc",
// "opt_in"}]}; shapes hold "batch"/"pos"/"q_pos"/"k_pos" for the axes a run decides and numbers
// for the rest. Reads the weight files' headers (not their data) to count parameters.
nlohmann::json model_tree_json(const formats::ModelSource& model, const std::string& dtype);

}  // namespace circuit::formats
