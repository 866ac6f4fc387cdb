// `circuit compile FILE --emit ast|plan|tokens [-O0|-O1] [--dump-after PASS] [--measured M] [-o F]`:
// the compiler's intermediate forms (tokens, the AST as JSON, the hook plan as JSON). The plan
// is stage 1 of a run, or a later stage given what earlier ones measured (--measured).
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "command_registry.h"
#include "compiler/ast/ast_json.h"
#include "compiler/check/model_provider.h"
#include "compiler/diagnostics/render.h"
#include "compiler/driver/compilation.h"
#include "compiler/lower/lower.h"
#include "compiler/lower/measured_values_json.h"
#include "compiler/optimize/optimize_plan.h"
#include "compiler/plan/plan_json.h"
#include "compiler/plan/validate_plan.h"
#include "compiler/parse/parser.h"

namespace {

struct CompileArgs {
  std::string path;
  std::string emit = "ast";
  std::string output;
  std::string model;
  int level = 1;
  std::string dump_after;
  std::string measured;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void run_compile(const CompileArgs& args) {
  using namespace circuit::compiler;
  std::string result;
  if (args.emit == "tokens") {
    SourceText source(args.path, read_text(args.path));
    result = dump_tokens(source);
  } else {
    FolderModelProvider models(default_models_dir());
    CompileOptions options;
    options.load.search_path = default_search_path();
    options.model_override = args.model;
    options.models = &models;
    auto c = check_file(args.path, options);
    std::cerr << render_text(c->diagnostics.all());
    if (c->diagnostics.has_errors()) throw circuit::cli::ExitRequest{1};
    if (args.emit == "ast") {
      result = ast::to_json(c->program.main()->file).dump(2) + "\n";
    } else {
      Diagnostics lowering;
      MeasuredValues measured = args.measured.empty() ? MeasuredValues{} : read_measured_file(args.measured);
      circuit::plan::HookPlan hook_plan = lower_program(*c, lowering, measured);
      std::cerr << render_text(lowering.all());
      if (lowering.has_errors()) throw circuit::cli::ExitRequest{1};
      circuit::plan::validate_plan(hook_plan);  // a lowering bug is an error here, not in the runtime
      if (args.level > 0) {
        circuit::plan::OptimizeOptions optimize;
        if (!args.dump_after.empty()) {
          optimize.dump_after = circuit::plan::parse_optimize_pass(args.dump_after);
          if (!optimize.dump_after) throw std::runtime_error("--dump-after: unknown optimizer pass '" + args.dump_after + "'");
        }
        hook_plan = circuit::plan::optimize_plan(std::move(hook_plan), optimize);
      }
      result = circuit::plan::dump_plan(hook_plan) + "\n";
    }
  }
  if (args.output.empty()) {
    std::cout << result;
    return;
  }
  std::ofstream out(args.output, std::ios::binary | std::ios::trunc);
  out << result;
  if (!out) throw std::runtime_error(args.output + ": cannot write the file");
}

circuit::cli::CommandRegistrar reg{21, "compile", [](CLI::App& app) {
  auto args = std::make_shared<CompileArgs>();
  auto* cmd = app.add_subcommand("compile", "Compile a .circuit file and print an intermediate form");
  cmd->add_option("file", args->path, "the .circuit file")->required();
  cmd->add_option("--emit", args->emit, "what to print: ast, plan or tokens")
      ->check(CLI::IsMember({"ast", "plan", "tokens"}));
  cmd->add_option("-O", args->level, "-O0: the plan as lowered; -O1: optimized (default)")
      ->check(CLI::IsMember({0, 1}));
  cmd->add_option("--dump-after", args->dump_after, "print the plan after this optimizer pass (stderr)");
  cmd->add_option("-o,--output", args->output, "write to this file instead of stdout");
  cmd->add_option("--model", args->model, "run on this model instead of the file's `model`");
  cmd->add_option("--measured", args->measured,
                  "JSON of what earlier stages measured (scores, circuits, edge_scores, values, done): "
                  "lower the next stage");
  cmd->callback([args] { run_compile(*args); });
}};

}  // namespace
