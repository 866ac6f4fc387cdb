// The model a server runs, described for clients without loading it: ModelSummary (family and
// shape) and ModelTree (the summary, the parameter count and every hook point of every layer
// with its shape), from the formats layer's config and the one hook point table. Part of the
// server layer (server/); no libtorch.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "runtime/formats/model_source.h"

namespace circuit::server {

// {"name", "family", "n_layers", "n_heads", "n_kv_heads", "d_model", "d_head", "d_mlp",
//  "d_vocab", "n_ctx"}
nlohmann::json model_summary_json(const formats::ModelSource& model);

// The summary plus {"parameters", "dtype", "hook_points": [{"name", "layer", "shape", "doc",
// "opt_in"}]}; shapes hold "batch"/"pos"/"q_pos"/"k_pos" for the axes a run decides and numbers
// for the rest. Reads the weight files' headers (not their data) to count parameters.
nlohmann::json model_tree_json(const formats::ModelSource& model, const std::string& dtype);

}  // namespace circuit::server
