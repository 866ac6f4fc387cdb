// `circuit inspect MODEL`: family, shapes, parameter count, stored dtypes/quantization and the
// model's hook points with their shapes (from the one hook point table).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <map>

#include "command_registry.h"
#include "runtime/formats/gguf_reader.h"
#include "runtime/formats/hook_point_table.h"
#include "runtime/formats/safetensors_reader.h"
#include "runtime_cli.h"

namespace circuit::cli {
namespace {

struct Storage {
  std::map<std::string, int> types;  // stored type -> number of tensors
  std::int64_t parameters = 0;
};

Storage read_storage(const formats::ModelSource& source) {
  Storage s;
  if (source.kind == formats::ModelKind::Gguf) {
    auto gguf = formats::GgufFile::open(source.weights.at(0));
    for (const auto& t : gguf.tensors()) {
      const char* name = formats::ggml_type_name(t.type);
      s.types[name ? name : "?"]++;
      s.parameters += static_cast<std::int64_t>(t.n_elements);
    }
  } else {
    auto st = formats::SafetensorsModel::open(source.weights.size() == 1 ? source.weights[0] : source.dir);
    for (const auto* t : st.tensors()) {
      s.types[formats::safetensors_dtype_name(t->dtype)]++;
      s.parameters += static_cast<std::int64_t>(t->n_elements);
    }
  }
  return s;
}

std::string concrete_shape(const formats::HookPointSpec& spec, const formats::ModelConfig& c) {
  std::string out = "[";
  for (size_t i = 0; i < spec.shape.size(); ++i) {
    if (i) out += ", ";
    auto d = spec.shape[i];
    using D = formats::Dim;
    if (d == D::Batch || d == D::Pos || d == D::QPos || d == D::KPos) out += formats::dim_symbol(d);
    else out += std::to_string(formats::dim_size(d, c, 0, 0));
  }
  return out + "]";
}

void run_inspect(const std::string& arg, bool json) {
  auto source = resolve_model_arg(arg);
  const auto& c = source.config;
  Storage storage = read_storage(source);
  nlohmann::json hooks = nlohmann::json::array();
  for (const auto& spec : formats::hook_point_table()) {
    if (!formats::hook_point_applies(spec, c)) continue;
    hooks.push_back({{"name", spec.pattern}, {"shape", formats::shape_symbols(spec)},
                     {"sizes", concrete_shape(spec, c)}, {"per_layer", spec.per_layer},
                     {"per_head", spec.head_axis >= 0}, {"per_neuron", spec.neuron_axis >= 0},
                     {"opt_in", spec.opt_in}, {"doc", spec.doc}});
  }
  const char* norms[] = {"layernorm", "rmsnorm", "none"};
  const char* positions[] = {"learned", "learned-qk-only", "rotary"};
  const char* mlps[] = {"gelu", "swiglu", "none"};
  nlohmann::json out = {
      {"name", source.name}, {"format", formats::model_kind_name(source.kind)},
      {"family", formats::family_name(c.family)}, {"architecture", c.architecture},
      {"n_layers", c.n_layers}, {"d_model", c.d_model}, {"n_heads", c.n_heads},
      {"n_kv_heads", c.n_kv_heads}, {"d_head", c.d_head}, {"d_mlp", c.d_mlp}, {"d_vocab", c.d_vocab},
      {"n_ctx", c.n_ctx}, {"norm", norms[static_cast<int>(c.norm)]},
      {"positions", positions[static_cast<int>(c.positions)]}, {"mlp", mlps[static_cast<int>(c.mlp)]},
      {"activation", c.activation}, {"parallel_residual", c.parallel_residual},
      {"tied_embeddings", c.tied_embeddings}, {"parameters", storage.parameters},
      {"stored_types", storage.types}, {"hook_points", hooks}};
  if (json) {
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::printf("model       %s (%s, %s)\n", source.name.c_str(), formats::model_kind_name(source.kind),
              source.dir.c_str());
  std::printf("family      %s (%s)\n", formats::family_name(c.family), c.architecture.c_str());
  std::printf("shape       %d layers, d_model %d, %d heads (%d kv) x d_head %d, d_mlp %d, vocab %d, n_ctx %d\n",
              c.n_layers, c.d_model, c.n_heads, c.n_kv_heads, c.d_head, c.d_mlp, c.d_vocab, c.n_ctx);
  std::printf("blocks      norm %s, positions %s, mlp %s (%s)%s%s\n", norms[static_cast<int>(c.norm)],
              positions[static_cast<int>(c.positions)], mlps[static_cast<int>(c.mlp)], c.activation.c_str(),
              c.parallel_residual ? ", parallel residual" : "", c.tied_embeddings ? ", tied embeddings" : "");
  std::printf("parameters  %lld stored\n", static_cast<long long>(storage.parameters));
  std::string types;
  for (const auto& [t, n] : storage.types) types += (types.empty() ? "" : ", ") + t + " x" + std::to_string(n);
  std::printf("stored as   %s\n", types.c_str());
  std::printf("hook points (layers 0..%d for blocks.{l}.*)\n", c.n_layers - 1);
  for (const auto& h : hooks) {
    std::string flags = h["opt_in"].get<bool>() ? "  opt-in" : "";
    std::printf("  %-34s %-28s %s%s\n", h["name"].get<std::string>().c_str(),
                h["shape"].get<std::string>().c_str(), h["sizes"].get<std::string>().c_str(), flags.c_str());
  }
}

static CommandRegistrar reg{41, "inspect", [](CLI::App& app) {
  auto* cmd = app.add_subcommand("inspect", "Show a model's shape, storage and hook points");
  auto model = std::make_shared<std::string>();
  auto flags = std::make_shared<RuntimeFlags>();
  cmd->add_option("model", *model, "model name, folder or .gguf file")->required();
  add_runtime_flags(*cmd, *flags);
  cmd->callback([model, flags] { run_reporting_torch_errors([&] {
    rt::validate_runtime_options(flags->runtime);
    run_inspect(*model, flags->json);
  }); });
}};

}  // namespace
}  // namespace circuit::cli
