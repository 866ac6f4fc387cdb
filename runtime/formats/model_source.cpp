#include "runtime/formats/model_source.h"

#include "runtime/formats/edit_distance.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "runtime/formats/config_reader.h"
#include "runtime/formats/format_error.h"
#include "runtime/formats/gguf_reader.h"
#include "runtime/formats/layer_names.h"
#include "runtime/formats/safetensors_reader.h"

namespace circuit::formats {
namespace {

namespace fs = std::filesystem;

bool has_extension(const fs::path& p, const char* ext) { return p.extension() == ext; }

std::vector<fs::path> gguf_files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_regular_file(ec) && has_extension(entry.path(), ".gguf")) out.push_back(entry.path());
  std::sort(out.begin(), out.end());
  return out;
}

ModelSource from_gguf(const fs::path& file, const std::string& name) {
  ModelSource s;
  s.name = name;
  s.kind = ModelKind::Gguf;
  s.dir = file.parent_path().string();
  s.weights = {file.string()};
  const GgufFile gguf = GgufFile::open(file.string());
  s.config = config_from_gguf(gguf);
  std::vector<std::string> names;
  names.reserve(gguf.tensors().size());
  for (const GgufTensorInfo& t : gguf.tensors()) names.push_back(t.name);
  check_no_extra_layers(names, s.config.n_layers, s.config.architecture + ".block_count", file.string());
  if (s.config.name.empty()) s.config.name = name;
  std::error_code ec;
  if (fs::is_regular_file(file.parent_path() / "tokenizer.json", ec))
    s.tokenizer_path = (file.parent_path() / "tokenizer.json").string();
  return s;
}

// Whether a tokenizer.json's post-processor puts a special token before every single
// sequence (Llama 2/3 do, GPT-2 style BPE does not). HF decides add_bos there, not in
// config.json.
// The config.json key that gives the layer count, for messages.
const char* layer_count_key(Family family) {
  switch (family) {
    case Family::Gpt2: return "n_layer";
    case Family::AttnOnly: return "n_layers";
    case Family::Llama: case Family::GptNeoX: break;
  }
  return "num_hidden_layers";
}

bool tokenizer_adds_bos(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream buffer;
  buffer << in.rdbuf();
  const auto j = nlohmann::json::parse(buffer.str(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("post_processor")) return false;
  std::vector<const nlohmann::json*> processors{&j["post_processor"]};
  for (size_t k = 0; k < processors.size(); ++k) {
    const nlohmann::json& p = *processors[k];
    if (!p.is_object() || !p.contains("type") || !p["type"].is_string()) continue;
    if (p["type"] == "Sequence" && p.contains("processors") && p["processors"].is_array())
      for (const auto& inner : p["processors"]) processors.push_back(&inner);
    if (p["type"] == "TemplateProcessing" && p.contains("single") &&
        p["single"].is_array() && !p["single"].empty() && p["single"][0].is_object() &&
        p["single"][0].contains("SpecialToken"))
      return true;
  }
  return false;
}

ModelSource from_directory(const fs::path& dir, const std::string& name) {
  std::error_code ec;
  const fs::path config = dir / "config.json";
  if (!fs::is_regular_file(config, ec)) {
    const auto ggufs = gguf_files_in(dir);
    if (ggufs.size() == 1) return from_gguf(ggufs[0], name);
    if (ggufs.size() > 1)
      throw FormatError(dir.string(), "holds " + std::to_string(ggufs.size()) +
                                          " .gguf files; name one of them");
    throw FormatError(dir.string(), "holds neither a config.json nor a .gguf file");
  }
  ModelSource s;
  s.name = name;
  s.kind = ModelKind::Safetensors;
  s.dir = dir.string();
  s.config_path = config.string();
  s.config = config_from_hf_file(s.config_path);
  if (s.config.name.empty()) s.config.name = name;
  const fs::path index = dir / "model.safetensors.index.json";
  const fs::path single = dir / "model.safetensors";
  if (fs::is_regular_file(index, ec)) {
    std::ifstream in(index, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto parsed = parse_safetensors_index(
        {reinterpret_cast<const uint8_t*>(text.data()), text.size()}, index.string());
    for (const auto& shard : parsed.shards) {
      if (!fs::is_regular_file(dir / shard, ec))
        throw FormatError(index.string(), "shard '" + shard + "' is missing");
      s.weights.push_back((dir / shard).string());
    }
    if (s.weights.empty()) throw FormatError(index.string(), "weight_map is empty");
    std::vector<std::string> names;
    for (const auto& [name, shard] : parsed.weight_map) names.push_back(name);
    check_no_extra_layers(names, s.config.n_layers, layer_count_key(s.config.family), index.string());
  } else if (fs::is_regular_file(single, ec)) {
    s.weights = {single.string()};
    // Only the header is read (the file is mapped, its data left alone).
    const SafetensorsFile weights = SafetensorsFile::open(single.string());
    std::vector<std::string> names;
    for (const SafetensorsTensor& t : weights.tensors()) names.push_back(t.name);
    check_no_extra_layers(names, s.config.n_layers, layer_count_key(s.config.family), single.string());
  } else {
    throw FormatError(dir.string(), "has a config.json but no model.safetensors or model.safetensors.index.json");
  }
  if (fs::is_regular_file(dir / "tokenizer.json", ec)) {
    s.tokenizer_path = (dir / "tokenizer.json").string();
    // Our attn-only config says add_bos itself; for HF models the tokenizer decides.
    if (s.config.family != Family::AttnOnly)
      s.config.add_bos = s.config.bos_token_id >= 0 && tokenizer_adds_bos(s.tokenizer_path);
  }
  return s;
}

std::vector<std::string> model_names(const std::string& models_dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(models_dir, ec))
    if (entry.is_directory(ec) && entry.path().filename().string()[0] != '.')
      names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

const char* model_kind_name(ModelKind kind) {
  return kind == ModelKind::Gguf ? "gguf" : "safetensors";
}

std::string models_folder(const std::string& source_dir) {
  const char* env = std::getenv("CIRCUIT_MODELS");
  if (env != nullptr && *env != '\0') return env;
  return (fs::path(source_dir) / "models").string();
}

std::string nearest_name(const std::string& name, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = 0;
  for (const auto& c : candidates) {
    // A prefix ("smollm2" for "smollm2-135m") counts as close whatever the length gap.
    size_t d = c.rfind(name, 0) == 0 && !name.empty() ? 1 : edit_distance(name, c);
    if (best.empty() || d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  const size_t limit = std::max<size_t>(2, name.size() / 2);
  return best_distance <= limit ? best : std::string();
}

ModelSource resolve_model(const std::string& arg, const std::string& models_dir) {
  if (arg.empty()) throw FormatError("model", "empty model name");
  std::error_code ec;
  const fs::path path(arg);
  const bool looks_like_path = arg.find('/') != std::string::npos || has_extension(path, ".gguf") ||
                               arg == "." || arg == "..";
  if (fs::is_directory(path, ec) && looks_like_path)
    return from_directory(path, fs::absolute(path).lexically_normal().filename().string());
  if (fs::is_regular_file(path, ec)) {
    if (has_extension(path, ".gguf")) return from_gguf(path, path.stem().string());
    if (path.filename() == "config.json")
      return from_directory(path.parent_path().empty() ? fs::path(".") : path.parent_path(),
                            fs::absolute(path).parent_path().filename().string());
    throw FormatError(arg, "not a model: expected a folder, a .gguf file or a model name");
  }
  if (looks_like_path) throw FormatError(arg, "no such file or folder");

  const fs::path named = fs::path(models_dir) / arg;
  if (fs::is_directory(named, ec)) return from_directory(named, arg);
  // A bare folder name relative to the working directory also works.
  if (fs::is_directory(path, ec)) return from_directory(path, arg);

  const std::vector<std::string> names = model_names(models_dir);
  std::string reason = "unknown model '" + arg + "'";
  if (names.empty()) {
    reason += "; the models folder " + models_dir + " holds no models";
  } else {
    reason += "; available in " + models_dir + ":";
    for (const auto& n : names) reason += " " + n;
    const std::string nearest = nearest_name(arg, names);
    if (!nearest.empty()) reason += "; did you mean '" + nearest + "'?";
  }
  throw FormatError("model", reason);
}

std::vector<ModelSource> list_models(const std::string& models_dir, std::vector<std::string>* problems) {
  std::vector<ModelSource> out;
  for (const std::string& name : model_names(models_dir)) {
    try {
      out.push_back(from_directory(fs::path(models_dir) / name, name));
    } catch (const FormatError& e) {
      if (problems) problems->push_back(e.what());
    }
  }
  return out;
}

}  // namespace circuit::formats
