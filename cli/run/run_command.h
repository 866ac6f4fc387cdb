// The pieces `circuit run` and `circuit test` share: their options, loading a compiled file's
// model once, and running one file with Ctrl-C handling. Declared here, defined with `circuit
// run` in cli/runtime/cmd_run.cpp (they use the runtime commands' model loading).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "run/run_context.h"
#include "run/run_session.h"
#include "runtime_cli.h"

namespace circuit::cli::run {

struct RunCommandOptions {
  std::string model;  // --model
  RuntimeFlags flags;
  std::string memory_budget = "4G";  // --memory-budget
  int level = 1;  // -O0: every sweep item its own forward, no cache reuse; -O1: optimized
};

// The options `circuit run` and `circuit test` share: --model, --memory-budget, -O and the
// runtime flags (--device, --dtype, --threads, --json).
void add_run_flags(CLI::App& command, RunCommandOptions& options);

// "4294967296", "512M", "4G", "0" (no limit) -> bytes; std::invalid_argument otherwise.
std::int64_t parse_byte_count(const std::string& text);

// Models loaded so far, by name: `circuit test` loads each once for all its files.
using ModelCache = std::map<std::string, std::unique_ptr<LoadedModel>>;

struct FileRun {
  std::unique_ptr<compiler::Compilation> compilation;
  RunContext context;
  RunOutcome outcome;
};

// A run's context on `loaded`: the source path, the command for provenance, the device, the
// dtype, and token decoding from the model's tokenizer.
RunContext run_context_for(const LoadedModel& loaded, const RunCommandOptions& options, const std::string& source_path,
                           std::string command);
// The run driver's options from the command's (memory budget, -O level) and a cancel flag.
RunOptions run_options_for(const RunCommandOptions& options, const std::atomic<bool>* cancel);
// Writes a finished run's three result files into `out` (the interchange document validated
// first: what we write must read back) and returns results.json's content.
nlohmann::json write_file_run(const FileRun& run, const std::string& out, const std::atomic<bool>* cancel);

// Compiles `path`, loads its model (through `cache`) and runs every stage, with a progress bar
// when `progress` and stderr is a terminal. Compile errors throw RunError; Ctrl-C throws
// rt::ExecutionCancelled.
FileRun run_file(const std::string& path, const RunCommandOptions& options, ModelCache& cache,
                 const std::atomic<bool>* cancel, bool progress);

}  // namespace circuit::cli::run
