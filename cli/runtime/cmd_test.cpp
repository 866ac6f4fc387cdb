// `circuit test FILE|DIR... [--model M] [--device D] [--dtype T] [--threads N] [--json]`: runs
// every .circuit file named or found under the folders (recursively) and checks its claims:
// prints each claim claimed against measured, and exits 1 when a claim fails, does not run,
// or a file does not compile or run (0 otherwise). Files without a model (libraries) are
// skipped; files without claims still run.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "command_registry.h"
#include "compiler/driver/compilation.h"
#include "run/interrupt.h"
#include "run/run_command.h"
#include "run/summary.h"
#include "runtime/exec/plan_executor.h"

namespace circuit::cli::run {
namespace {

namespace fs = std::filesystem;

struct TestArgs {
  std::vector<std::string> paths;
  RunCommandOptions options;
};

std::vector<std::string> circuit_files(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const auto& p : paths) {
    std::error_code error;
    if (fs::is_directory(p, error)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(p, error); !error && it != fs::recursive_directory_iterator();
           it.increment(error))
        if (it->is_regular_file() && it->path().extension() == ".circuit") found.push_back(it->path().string());
      std::sort(found.begin(), found.end());
      if (found.empty()) throw std::runtime_error(p + ": no .circuit files in this folder");
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(p, error)) {
      files.push_back(p);
    } else {
      throw std::runtime_error(p + ": no such file or folder");
    }
  }
  return files;
}

void test_command(const TestArgs& a) {
  InterruptGuard interrupt;
  const auto files = circuit_files(a.paths);
  ModelCache cache;
  int failed_files = 0, passed_claims = 0, failed_claims = 0, skipped = 0;
  nlohmann::json report = nlohmann::json::array();
  for (const auto& file : files) {
    nlohmann::json entry{{"file", file}};
    try {
      FileRun run = run_file(file, a.options, cache, interrupt.flag(), !a.options.flags.json);
      const int failed = static_cast<int>(run.outcome.unmeasured.size()) +
                         static_cast<int>(std::count_if(run.outcome.claims.begin(), run.outcome.claims.end(),
                                                        [](const auto& c) { return !c.passed; }));
      const int total = static_cast<int>(run.outcome.claims.size() + run.outcome.unmeasured.size());
      passed_claims += total - failed;
      failed_claims += failed;
      if (failed) ++failed_files;
      entry["passed"] = failed == 0;
      entry["claims"] = nlohmann::json::array();
      for (const auto& c : run.outcome.claims)
        entry["claims"].push_back({{"expression", c.expression}, {"comparator", c.comparator},
                                   {"threshold", c.threshold}, {"measured", c.measured}, {"passed", c.passed},
                                   {"location", c.location}});
      for (const auto& w : run.outcome.unmeasured)
        entry["claims"].push_back({{"expression", w.expression}, {"comparator", w.comparator}, {"bound", w.bound},
                                   {"measured", nullptr}, {"passed", false}, {"location", w.location}});
      if (!a.options.flags.json) {
        std::cout << (failed ? "FAIL " : "ok   ") << file << " (" << run.context.model.name << ", "
                  << run.outcome.forwards() << (run.outcome.forwards() == 1 ? " forward)\n" : " forwards)\n");
        if (total == 0) std::cout << "  no claims; ran " << run.outcome.stages.size() << " stage(s)\n";
        print_claims(std::cout, run.outcome);
      }
      // What never ran (a claim, or an experiment such as a sweep on a task without corrupt
      // prompts): lowering's own account (W050), with file:line:col, as `circuit run` prints it.
      if (!run.outcome.pending.empty()) std::cerr << run.outcome.pending;
    } catch (const rt::ExecutionCancelled&) {
      std::cerr << "circuit: interrupted\n";
      throw ExitRequest{kInterruptedExitCode};
    } catch (const RunError& e) {
      // A library file (no model) is checked by `circuit check`, not run.
      if (std::string(e.what()).find("no model to run on") != std::string::npos) {
        ++skipped;
        entry["skipped"] = "no model";
        if (!a.options.flags.json) std::cout << "skip " << file << " (no model: a library file)\n";
      } else {
        ++failed_files;
        entry["passed"] = false;
        entry["error"] = e.what();
        std::cout << "FAIL " << file << "\n";
        std::cerr << "circuit: error: " << e.what() << "\n";
      }
    } catch (const std::exception& e) {
      ++failed_files;
      entry["passed"] = false;
      entry["error"] = e.what();
      std::cout << "FAIL " << file << "\n";
      std::cerr << "circuit: error: " << file << ": " << e.what() << "\n";
    }
    report.push_back(std::move(entry));
  }
  if (a.options.flags.json) {
    std::cout << nlohmann::json{{"files", report}, {"passed", failed_files == 0}}.dump(2) << "\n";
  } else {
    std::cout << "\n" << files.size() << (files.size() == 1 ? " file" : " files") << ": " << passed_claims
              << " claims passed, " << failed_claims << " failed";
    if (skipped) std::cout << ", " << skipped << " skipped";
    std::cout << (failed_files ? "; FAILED\n" : "; ok\n");
  }
  if (failed_files) throw ExitRequest{1};
}

static CommandRegistrar reg{39, "test", [](CLI::App& app) {
  auto* cmd = app.add_subcommand("test", "Run .circuit files (and folders of them) and check their claims");
  auto a = std::make_shared<TestArgs>();
  cmd->add_option("paths", a->paths, ".circuit files or folders")->required();
  add_run_flags(*cmd, a->options);
  cmd->callback([a] { run_reporting_torch_errors([&] { test_command(*a); }); });
}};

}  // namespace
}  // namespace circuit::cli::run
