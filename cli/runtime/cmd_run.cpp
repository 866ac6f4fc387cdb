// `circuit run FILE [--model M] [--out DIR] [--memory-budget B] [--device D] [--dtype T]
// [--threads N] [--json]`: runs every experiment and claim of a .circuit file in stages, prints
// a summary and writes DIR/circuit.json, DIR/results.json and DIR/tensors.safetensors
// (default DIR: results/<file stem>/ under the current folder).
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "command_registry.h"
#include "compiler/driver/compilation.h"
#include "compiler/interchange/validate_document.h"
#include "run/interrupt.h"
#include "run/progress.h"
#include "run/results_writer.h"
#include "run/run_command.h"
#include "run/run_document.h"
#include "run/summary.h"
#include "runtime/exec/plan_executor.h"
#include "runtime/model/torch_options.h"

namespace circuit::cli::run {

std::int64_t parse_byte_count(const std::string& text) {
  size_t used = 0;
  long double value = 0;
  try {
    value = std::stold(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string unit = text.substr(used);
  long double scale = 1;
  if (unit == "K" || unit == "KiB") scale = 1024.0L;
  else if (unit == "M" || unit == "MiB") scale = 1024.0L * 1024;
  else if (unit == "G" || unit == "GiB") scale = 1024.0L * 1024 * 1024;
  else if (!unit.empty()) used = 0;
  if (used == 0 || value < 0 || value * scale > 9.0e18L)
    throw std::invalid_argument("--memory-budget: '" + text + "' is not a byte count (e.g. 2G, 512M, 0 for no limit)");
  return static_cast<std::int64_t>(value * scale);
}

RunContext run_context_for(const LoadedModel& loaded, const RunCommandOptions& options, const std::string& source_path,
                           std::string command) {
  RunContext context;
  context.source_path = source_path;
  context.command = std::move(command);
  context.model = loaded.source;
  context.device = options.flags.runtime.device;
  context.dtype = options.flags.runtime.dtype;
  if (loaded.tokenizer) {
    auto tokenizer = loaded.tokenizer;
    context.decode = [tokenizer](const std::vector<std::int32_t>& ids) {
      std::vector<int> kept;
      for (auto id : ids)
        if (!tokenizer->is_special(id)) kept.push_back(id);
      return tokenizer->decode(kept);
    };
    context.token_text = [tokenizer](std::int32_t id) {
      const int one[] = {id};
      return tokenizer->decode(one);
    };
  }
  return context;
}

RunOptions run_options_for(const RunCommandOptions& options, const std::atomic<bool>* cancel) {
  RunOptions run_options;
  run_options.memory_budget_bytes = parse_byte_count(options.memory_budget);
  run_options.optimize = options.level > 0;
  run_options.cancel = cancel;
  return run_options;
}

nlohmann::json write_file_run(const FileRun& run, const std::string& out, const std::atomic<bool>* cancel) {
  const std::string stem = std::filesystem::path(run.context.source_path).stem().string();
  auto document = build_run_document(run.outcome, run.context, stem, weights_sha256(run.context.model));
  interchange::validate_document(document);  // what we write must read back
  auto results = results_to_json(run.outcome, run.context);
  // What circuit.json holds, so that a viewer can tell without fetching it (it can be megabytes)
  // whether it has edges beyond the `circuits` listed here: circuits written out and measured.
  auto& described = results["document"];
  described["name"] = document.name.value_or(stem);
  described["nodes"] = document.nodes.size();
  described["edges"] = document.edges.size();
  write_results(out, document, results, results_tensors(run.outcome), cancel);
  return results;
}

FileRun run_file(const std::string& path, const RunCommandOptions& options, ModelCache& cache,
                 const std::atomic<bool>* cancel, bool progress) {
  FileRun run;
  run.compilation = compile_for_run(path, options.model, std::cerr);
  const std::string model_name = model_name_of(*run.compilation);
  if (model_name.empty())
    throw RunError(path + ": no model to run on (declare `model \"NAME\"` or pass --model)");
  auto& slot = cache[model_name];
  // A run over the memory budget is refused before its weights are loaded.
  const int element_bytes = static_cast<int>(c10::elementSize(rt::parse_dtype(options.flags.runtime.dtype)));
  check_budget_before_loading(*run.compilation, run_options_for(options, cancel), element_bytes);
  if (!slot) slot = std::make_unique<LoadedModel>(load_model(model_name, options.flags));
  const LoadedModel& loaded = *slot;

  std::string command;
  for (const auto& arg : process_arguments()) {
    if (!command.empty()) command += ' ';
    command += arg == process_arguments().front() ? std::string("circuit") : arg;
  }
  run.context = run_context_for(loaded, options, path, std::move(command));

  ProgressBar bar(progress);
  RunOptions run_options = run_options_for(options, cancel);
  run_options.stage_started = [&bar](int stage) { bar.set_stage(stage); };
  run_options.progress = [&bar](std::int64_t done, std::int64_t total, const std::string& what) {
    bar.update(done, total, what);
  };
  run.outcome = run_compiled(*run.compilation, loaded.model, run_options, std::cerr);
  bar.clear();
  if (cancel && cancel->load()) throw rt::ExecutionCancelled();
  return run;
}

namespace {

struct RunArgs {
  std::string path;
  std::string out;
  RunCommandOptions options;
};

std::string default_out_dir(const std::string& path) {
  return (std::filesystem::path("results") / std::filesystem::path(path).stem()).string();
}

void run_command(const RunArgs& a) {
  InterruptGuard interrupt;
  try {
    ModelCache cache;
    FileRun run = run_file(a.path, a.options, cache, interrupt.flag(), !a.options.flags.json);
    const std::string out = a.out.empty() ? default_out_dir(a.path) : a.out;
    const nlohmann::json results = write_file_run(run, out, interrupt.flag());
    if (a.options.flags.json) {
      std::cout << results.dump(2) << "\n";
    } else {
      print_summary(std::cout, run.outcome, run.context);
      if (!run.outcome.claims.empty() || !run.outcome.unmeasured.empty()) {
        std::cout << "\nclaims\n";
        print_claims(std::cout, run.outcome);
      }
      std::cout << "\nresults: " << out << "/ (circuit.json, results.json, tensors.safetensors)\n";
    }
    if (!run.outcome.pending.empty()) std::cerr << run.outcome.pending;
  } catch (const rt::ExecutionCancelled&) {
    std::cerr << "circuit: interrupted; no results written\n";
    throw ExitRequest{kInterruptedExitCode};
  }
}

}  // namespace

void add_run_flags(CLI::App& command, RunCommandOptions& options) {
  command.add_option("--model", options.model, "run on this model instead of the file's `model`");
  command.add_option("--memory-budget", options.memory_budget,
                     "memory the run may hold (its saves, gradients, results and one forward): bytes, or 512M, 4G; "
                     "0 = no limit; a plan over it is refused before it runs")
      ->capture_default_str();
  command.add_option("-O", options.level,
                     "-O1: optimized (default); -O0: one forward per sweep item, no cache reuse")
      ->check(CLI::IsMember({0, 1}));
  add_runtime_flags(command, options.flags);
}

namespace {

static CommandRegistrar reg{38, "run", [](CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Run a .circuit file's experiments and claims; write its results");
  auto a = std::make_shared<RunArgs>();
  cmd->add_option("file", a->path, "the .circuit file")->required();
  cmd->add_option("--out", a->out, "results folder (default: results/<file stem>/)");
  add_run_flags(*cmd, a->options);
  cmd->callback([a] { run_reporting_torch_errors([&] { run_command(*a); }); });
}};

}  // namespace
}  // namespace circuit::cli::run
