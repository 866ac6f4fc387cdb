// Builds a ModelConfig from a Hugging Face config.json or from GGUF metadata: the formats
// layer's single place that knows each family's config keys and their defaults.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "runtime/formats/model_config.h"

namespace circuit::formats {

class GgufFile;

// model_type gpt2, llama (incl. Llama 3 rope_scaling), qwen2, gpt_neox, and our own
// circuitry-attn-only (docs/model-formats.md). `where` names the file in errors:
// "config.json: missing field 'num_attention_heads'". Unknown model_type -> FormatError.
ModelConfig config_from_hf_json(const nlohmann::json& config, const std::string& where);
// Reads and parses a config.json file (JSON syntax errors become FormatError).
ModelConfig config_from_hf_file(const std::string& path);

// general.architecture llama, qwen2 and gpt2.
ModelConfig config_from_gguf(const GgufFile& gguf);

}  // namespace circuit::formats
