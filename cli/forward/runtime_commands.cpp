// The commands that run a model live in `circuit-runtime`, the one executable that loads
// libtorch: loading it costs about 0.2 s at every start, which `circuit check` (run by editors
// on each keystroke) must not pay. `circuit` lists those commands like its own and replaces
// itself with `circuit-runtime` (same folder, same arguments) when one is asked for.
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "command_registry.h"

namespace circuit::cli {
namespace {

struct RuntimeCommand {
  int order;  // the same place in `circuit --help` as in circuit-runtime's own registry
  const char* name;
  const char* description;
};

constexpr RuntimeCommand kRuntimeCommands[] = {
#ifdef CIRCUIT_RUN_COMMANDS  // circuit-runtime has them when it is built with the compiler
    {38, "run", "Run a .circuit file's experiments and claims; write its results"},
    {39, "test", "Run .circuit files (and folders of them) and check their claims"},
    {45, "serve", "Serve a workspace of .circuit files: the web app, live diagnostics and runs"},
#endif
    {40, "models", "List the models in the models folder"},
    {41, "inspect", "Show a model's shape, storage and hook points"},
    {42, "predict", "Print the most likely next tokens after a prompt"},
    {43, "generate", "Continue a prompt (greedy, or sampled with --temperature)"},
    {44, "cache", "Run prompts and save hook point activations to safetensors"},
};

std::filesystem::path runtime_executable() {
  std::error_code error;
  auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) throw std::runtime_error("cannot find this executable's folder: " + error.message());
  return self.parent_path() / "circuit-runtime";
}

[[noreturn]] void exec_runtime() {
  const auto exe = runtime_executable();
  std::vector<std::string> args = process_arguments();  // argv[0] kept: usage says `circuit`
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(exe.c_str(), argv.data());
  throw std::runtime_error(exe.string() + ": cannot run it (" + std::strerror(errno) +
                           "); it is built with libtorch (CIRCUIT_WITH_TORCH)");
}

struct RegisterRuntimeCommands {
  RegisterRuntimeCommands() {
    for (const auto& command : kRuntimeCommands) {
      CommandRegistrar{command.order, command.name, [command](CLI::App& app) {
        auto* cmd = app.add_subcommand(command.name, command.description);
        cmd->prefix_command();    // every argument after the name goes to circuit-runtime as is,
        cmd->set_help_flag();     // --help included
        cmd->callback([] { exec_runtime(); });
      }};
    }
  }
} register_runtime_commands;

}  // namespace
}  // namespace circuit::cli
