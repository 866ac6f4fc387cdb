#include "runtime/formats/model_description.h"

#include <cstdint>

#include "runtime/formats/gguf_reader.h"
#include "runtime/formats/hook_point_table.h"
#include "runtime/formats/safetensors_reader.h"

namespace circuit::formats {
namespace {

std::int64_t count_parameters(const formats::ModelSource& model) {
  std::int64_t n = 0;
  if (model.kind == formats::ModelKind::Gguf) {
    auto gguf = formats::GgufFile::open(model.weights.at(0));
    for (const auto& t : gguf.tensors()) n += static_cast<std::int64_t>(t.n_elements);
  } else {
    auto st = formats::SafetensorsModel::open(model.weights.size() == 1 ? model.weights[0] : model.dir);
    for (const auto* t : st.tensors()) n += static_cast<std::int64_t>(t->n_elements);
  }
  return n;
}

nlohmann::json concrete_shape(const formats::HookPointSpec& spec, const formats::ModelConfig& config) {
  using D = formats::Dim;
  nlohmann::json shape = nlohmann::json::array();
  for (auto d : spec.shape) {
    if (d == D::Batch || d == D::Pos || d == D::QPos || d == D::KPos)
      shape.push_back(formats::dim_symbol(d));
    else
      shape.push_back(formats::dim_size(d, config, 0, 0));
  }
  return shape;
}

}  // namespace

nlohmann::json model_summary_json(const formats::ModelSource& model) {
  const auto& c = model.config;
  return {{"name", model.name},         {"family", formats::family_name(c.family)},
          {"n_layers", c.n_layers},     {"n_heads", c.n_heads},
          {"n_kv_heads", c.n_kv_heads}, {"d_model", c.d_model},
          {"d_head", c.d_head},         {"d_mlp", c.d_mlp},
          {"d_vocab", c.d_vocab},       {"n_ctx", c.n_ctx}};
}

nlohmann::json model_tree_json(const formats::ModelSource& model, const std::string& dtype) {
  const auto& c = model.config;
  nlohmann::json tree = model_summary_json(model);
  tree["parameters"] = count_parameters(model);
  tree["dtype"] = dtype;
  nlohmann::json hooks = nlohmann::json::array();
  // Forward order: the embeddings, each layer's points, then the final norm and the logits.
  auto add = [&](const formats::HookPointSpec& spec, int layer) {
    hooks.push_back({{"name", formats::hook_point_name(spec.kind, layer)},
                     {"layer", layer < 0 ? nlohmann::json() : nlohmann::json(layer)},
                     {"shape", concrete_shape(spec, c)},
                     {"opt_in", spec.opt_in},
                     {"doc", spec.doc}});
  };
  const auto& table = formats::hook_point_table();
  for (const auto& spec : table)
    if (!spec.per_layer && spec.kind < formats::HookKind::ResidPre && formats::hook_point_applies(spec, c)) add(spec, -1);
  for (int l = 0; l < c.n_layers; ++l)
    for (const auto& spec : table)
      if (spec.per_layer && formats::hook_point_applies(spec, c)) add(spec, l);
  for (const auto& spec : table)
    if (!spec.per_layer && spec.kind > formats::HookKind::ResidPre && formats::hook_point_applies(spec, c)) add(spec, -1);
  tree["hook_points"] = std::move(hooks);
  return tree;
}

}  // namespace circuit::formats
