// Which transformer layer a weight belongs to, from its name alone, and the check that a
// model's weights hold no layer beyond the count its config gives. Part of the libtorch-free
// formats layer: model resolution refuses a folder or GGUF file whose weights and config
// disagree, instead of silently ignoring the extra layers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace circuit::formats {

// The layer index in a weight name: the number after a "layers", "h", "blocks" or "blk"
// segment ("model.layers.3.mlp.up_proj.weight" -> 3, "transformer.h.11.attn.c_attn.weight"
// -> 11, "blk.0.attn_q.weight" -> 0). Numbers past 2^64 read as UINT64_MAX. nullopt when the
// name has no such segment (embeddings, final norm, unembedding).
std::optional<uint64_t> layer_of_weight(std::string_view name);

// Throws FormatError(where, ...) naming the first tensor of `names` (in their order) whose
// layer is n_layers or more; `count_key` is the config's name for the layer count
// ("num_hidden_layers", "llama.block_count"), for the message.
void check_no_extra_layers(const std::vector<std::string>& names, int n_layers, const std::string& count_key,
                           const std::string& where);

}  // namespace circuit::formats
