// `circuit serve [DIR] [--model M] [--port P] [--host H] [--token T] [--allow-host NAME]...`:
// serves the web app and the live API (docs/server-api.md) over the workspace DIR until
// Ctrl-C. The server itself is server/ (no libtorch); this file loads the model once and runs
// files on it with the run driver, the way `circuit run` does, writing DIR/results/<stem>/.
#include <CLI/CLI.hpp>

#include <chrono>
#include <iostream>
#include <sstream>

#include "command_registry.h"
#include "compiler/check/model_provider.h"
#include "compiler/driver/compilation.h"
#include "run/run_command.h"
#include "runtime/exec/plan_executor.h"
#include "server/access_token.h"
#include "server/api_routes.h"
#include "server/http_server.h"
#include "server/live_compiler.h"
#include "server/request_policy.h"
#include "runtime/formats/model_description.h"
#include "server/run_queue.h"
#include "server/run_results.h"
#include "server/session_state.h"
#include "server/workspace.h"

namespace circuit::cli::run {
namespace {

struct ServeArgs {
  std::string dir = ".";
  std::string host = "127.0.0.1";
  unsigned short port = 8765;
  std::string token;
  std::vector<std::string> allow_hosts;
  RunCommandOptions options;
};

// Runs one file on the server's worker thread: run_file()'s steps (cmd_run.cpp), except that
// the compile holds the front-end lock the live diagnostics take too and reads only what the
// live compiler's bounded resolver allows, and the model stays loaded in `models_` for the
// next run.
class DriverExecutor : public server::RunExecutor {
 public:
  DriverExecutor(const RunCommandOptions& options, const compiler::SourceResolver& files)
      : options_(options), compile_models_(files) {
    compile_options_.load.resolver = &files;
    compile_options_.model_override = options.model;
    compile_options_.models = &compile_models_;
  }

  ModelCache& models() { return models_; }

  server::RunReport run(const server::RunJob& job, const std::atomic<bool>& cancel,
                        const server::ProgressFn& progress) override {
    FileRun run;
    std::ostringstream diagnostics;
    try {
      auto lock = server::LiveCompiler::lock_front_end();
      run.compilation = compile_for_run(job.file.string(), compile_options_, diagnostics);
    } catch (const RunError& e) {
      // The first error says why (the editor shows them all), with the path as the API spells it.
      std::istringstream lines(diagnostics.str());
      for (std::string line; std::getline(lines, line);) {
        if (line.find(": error[") == std::string::npos) continue;
        if (line.starts_with(job.file.string())) line = job.path + line.substr(job.file.string().size());
        throw RunError(line);
      }
      throw;
    }
    const std::string model_name = model_name_of(*run.compilation);
    if (model_name.empty()) throw RunError(job.path + ": no model to run on (declare `model \"NAME\"` or pass --model)");
    auto& slot = models_[model_name];
    if (!slot) slot = std::make_unique<LoadedModel>(load_model(model_name, options_.flags));
    const LoadedModel& loaded = *slot;

    run.context = run_context_for(loaded, options_, job.file.string(), "circuit serve (run of " + job.path + ")");
    RunOptions run_options = run_options_for(options_, &cancel);
    run_options.progress = progress;
    run.outcome = run_compiled(*run.compilation, loaded.model, run_options, diagnostics);
    if (cancel.load()) throw rt::ExecutionCancelled();

    const nlohmann::json results = write_file_run(run, job.results_dir.string(), &cancel);
    server::RunReport report;
    if (auto it = results.find("passed"); it != results.end() && it->is_boolean()) report.passed = it->get<bool>();
    return report;
  }

 private:
  const RunCommandOptions& options_;
  compiler::FolderModelProvider compile_models_;  // shapes and tokenizers, for compiling
  compiler::CompileOptions compile_options_;
  ModelCache models_;
};

void serve_command(const ServeArgs& a) {
  server::Workspace workspace(a.dir);
  // Anywhere but the loopback, the workspace and the model are open to the network: a token,
  // one that cannot be guessed.
  if (!a.token.empty()) server::check_token_strength(a.token);
  // An --allow-host that names no host stops here, before the model loads.
  (void)server::RequestPolicy(a.host, a.port, a.allow_hosts);
  server::AccessToken token(a.token);
  if (!server::is_loopback_host(a.host) && a.token.empty()) token = server::AccessToken(server::generate_access_token());

  server::LiveCompiler compiler(workspace, a.options.model);
  std::vector<std::filesystem::path> files;
  for (const auto& f : workspace.list_circuit_files()) files.push_back(workspace.root() / f.path);
  const std::string model_name = compiler.first_model(files);

  DriverExecutor executor(a.options, compiler.files());
  nlohmann::json summary, tree;
  if (!model_name.empty()) {
    // Loaded now, once: the first run should not pay for it, and a bad model stops here.
    const auto start = std::chrono::steady_clock::now();
    auto& slot = executor.models()[model_name];
    slot = std::make_unique<LoadedModel>(load_model(model_name, a.options.flags));
    summary = formats::model_summary_json(slot->source);
    tree = formats::model_tree_json(slot->source, a.options.flags.runtime.dtype);
    std::cout << "model " << slot->source.name << " loaded in "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s\n";
  } else {
    std::cout << "no model: no file names one and --model was not given (runs need one)\n";
  }

  server::SessionState session;
  server::RunQueue queue(session, executor);
  server::RunResults results(workspace);
  server::ApiRoutes routes({workspace, session, queue, results, compiler, token, summary, tree});
  server::HttpServerOptions http_options;
  http_options.allowed_hosts = a.allow_hosts;
  server::HttpServer http(routes, session, a.host, a.port, http_options);

  std::string host = a.host.find(':') != std::string::npos && a.host.front() != '[' ? "[" + a.host + "]" : a.host;
  std::string address = "http://" + host + ":" + std::to_string(http.port()) + "/";
  if (token.required()) address += "?token=" + token.value();
  std::cout << "serving " << workspace.root().string() << " (" << files.size() << " .circuit files)\n"
            << "open " << address << "\n"
            << "Ctrl-C to stop" << std::endl;
  http.run(/*stop_on_signals=*/true);
  queue.stop();  // cancels a run in progress; its results folder stays as it was
  std::cout << "stopped" << std::endl;
}

static CommandRegistrar reg{45, "serve", [](CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "Serve a workspace of .circuit files: the web app, live diagnostics and runs");
  auto a = std::make_shared<ServeArgs>();
  cmd->add_option("dir", a->dir, "the workspace folder (default: the current folder)");
  cmd->add_option("--port", a->port, "port to listen on (0: any free port)")->capture_default_str();
  cmd->add_option("--host", a->host, "address to listen on; other than 127.0.0.1 needs a token")->capture_default_str();
  cmd->add_option("--token", a->token,
                  "access token clients must send, 128 bits or more (generated when --host is not loopback)");
  cmd->add_option("--allow-host", a->allow_hosts,
                  "another name clients reach this server by (a Host header to answer; NAME or NAME:PORT); repeatable")
      ->allow_extra_args(false);
  add_run_flags(*cmd, a->options);
  cmd->remove_option(cmd->get_option("--json"));  // the server answers in JSON anyway
  cmd->callback([a] { run_reporting_torch_errors([&] { serve_command(*a); }); });
}};

}  // namespace
}  // namespace circuit::cli::run
