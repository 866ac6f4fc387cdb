// `circuit check FILE|DIR... [--model M] [--format json]`: parse, resolve and check files
// against their model; print every diagnostic; exit 1 when any error was found.
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command_registry.h"
#include "compiler/check/model_provider.h"
#include "compiler/diagnostics/render.h"
#include "compiler/driver/compilation.h"
#include "compiler/driver/source_files.h"

namespace {

struct CheckArgs {
  std::vector<std::string> paths;
  std::string model;
  std::string format = "text";
};

void run_check(const CheckArgs& args) {
  using namespace circuit::compiler;
  FolderModelProvider models(default_models_dir());
  CompileOptions options;
  options.load.search_path = default_search_path();
  options.model_override = args.model;
  options.models = &models;
  int errors = 0, warnings = 0;
  auto files = expand_circuit_paths(args.paths);
  nlohmann::json json = nlohmann::json::array();
  for (const auto& file : files) {
    auto c = check_file(file, options);
    errors += c->diagnostics.error_count();
    warnings += c->diagnostics.warning_count();
    if (args.format == "json") {
      for (auto& d : render_json(c->diagnostics.all())) json.push_back(d);
    } else {
      std::cerr << render_text(c->diagnostics.all());
    }
  }
  if (args.format == "json") {
    std::cout << nlohmann::json{{"files", files.size()}, {"errors", errors}, {"warnings", warnings},
                                {"diagnostics", json}}.dump(2)
              << "\n";
  } else if (errors > 0 || warnings > 0) {
    std::cerr << "circuit check: " << errors << " error(s), " << warnings << " warning(s) in " << files.size()
              << " file(s)\n";
  } else {
    std::cout << "circuit check: " << files.size() << " file(s), no problems\n";
  }
  if (errors > 0) throw circuit::cli::ExitRequest{1};
}

circuit::cli::CommandRegistrar reg{20, "check", [](CLI::App& app) {
  auto args = std::make_shared<CheckArgs>();
  auto* cmd = app.add_subcommand("check", "Check .circuit files: syntax, names, types and the model's shape");
  cmd->add_option("paths", args->paths, ".circuit files or folders")->required();
  cmd->add_option("--model", args->model, "run on this model instead of the file's `model`");
  cmd->add_option("--format", args->format, "text or json")->check(CLI::IsMember({"text", "json"}));
  cmd->callback([args] { run_check(*args); });
}};

}  // namespace
