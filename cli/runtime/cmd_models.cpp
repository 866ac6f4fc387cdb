// `circuit models`: the models in the models folder (embedded and local), with family,
// format and shape.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "command_registry.h"
#include "runtime_cli.h"

namespace circuit::cli {
namespace {

void run_models(bool json) {
  std::vector<std::string> problems;
  auto models = formats::list_models(models_dir(), &problems);
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& m : models) {
      const auto& c = m.config;
      out.push_back({{"name", m.name}, {"format", formats::model_kind_name(m.kind)},
                     {"family", formats::family_name(c.family)}, {"dir", m.dir},
                     {"n_layers", c.n_layers}, {"n_heads", c.n_heads}, {"d_model", c.d_model},
                     {"d_vocab", c.d_vocab}, {"n_ctx", c.n_ctx}});
    }
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::printf("%-24s %-12s %-10s %7s %6s %8s %7s\n", "NAME", "FORMAT", "FAMILY", "LAYERS", "HEADS",
              "D_MODEL", "VOCAB");
  for (const auto& m : models) {
    const auto& c = m.config;
    std::printf("%-24s %-12s %-10s %7d %6d %8d %7d\n", m.name.c_str(), formats::model_kind_name(m.kind),
                formats::family_name(c.family), c.n_layers, c.n_heads, c.d_model, c.d_vocab);
  }
  if (models.empty()) std::printf("(no models in %s)\n", models_dir().c_str());
  for (const auto& p : problems) std::fprintf(stderr, "circuit: warning: %s\n", p.c_str());
}

static CommandRegistrar reg{40, "models", [](CLI::App& app) {
  auto* cmd = app.add_subcommand("models", "List the models in the models folder");
  auto flags = std::make_shared<RuntimeFlags>();
  add_runtime_flags(*cmd, *flags);  // --device/--dtype are checked, for symmetry with the others
  cmd->callback([flags] {
    rt::validate_runtime_options(flags->runtime);
    run_models(flags->json);
  });
}};

}  // namespace
}  // namespace circuit::cli
