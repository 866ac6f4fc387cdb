// Resolves the MODEL argument of the CLI (a directory, a .gguf file, or a short name in the
// models folder) to the files and ModelConfig of a model: the formats layer's entry point for
// every command that takes a model.
#pragma once

#include <string>
#include <vector>

#include "runtime/formats/model_config.h"

namespace circuit::formats {

enum class ModelKind { Safetensors, Gguf };

const char* model_kind_name(ModelKind kind);  // "safetensors", "gguf"

struct ModelSource {
  std::string name;                  // the short name (folder or file stem)
  ModelKind kind = ModelKind::Safetensors;
  std::string dir;                   // the folder holding the files
  std::vector<std::string> weights;  // safetensors: each shard (one for an unsharded model);
                                     // gguf: the one .gguf file
  std::string config_path;           // config.json (empty for gguf)
  std::string tokenizer_path;        // tokenizer.json when present, else empty
  ModelConfig config;
};

// The models folder: $CIRCUIT_MODELS if set and non-empty, else <source_dir>/models.
std::string models_folder(const std::string& source_dir);

// `arg` is a directory (config.json + model.safetensors or model.safetensors.index.json,
// optional tokenizer.json), a .gguf file, or a short name: a subfolder of `models_dir` holding
// a config.json or exactly one .gguf. An unknown name -> FormatError listing the available
// names and the nearest one ("did you mean 'smollm2-135m'?").
ModelSource resolve_model(const std::string& arg, const std::string& models_dir);

// Every model in `models_dir` (subfolders that resolve), sorted by name. A subfolder that
// fails to resolve is skipped; its error goes to `problems` when given.
std::vector<ModelSource> list_models(const std::string& models_dir,
                                     std::vector<std::string>* problems = nullptr);

// The candidate closest to `name` by edit distance, or "" when none is reasonably close.
std::string nearest_name(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace circuit::formats
