// CommandRegistry: each `circuit` subcommand lives in its own cli/cmd_*.cpp file and adds itself
// here, so the runtime's and the compiler's commands stay apart and main() stays short.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace circuit::cli {

// Adds a subcommand to `app`. The subcommand's callback does the work; it reports a user's
// mistake by throwing UserError (printed as one line, exit code 1).
using CommandSetup = std::function<void(CLI::App& app)>;

struct CommandEntry {
  int order;  // position in `circuit --help`
  std::string name;
  CommandSetup setup;
};

std::vector<CommandEntry>& command_registry();

// A file-scope `static CommandRegistrar r{order, "name", setup};` registers a command.
struct CommandRegistrar {
  CommandRegistrar(int order, std::string name, CommandSetup setup) {
    command_registry().push_back({order, std::move(name), std::move(setup)});
  }
};

// The command line main() was started with (a command may hand it on to another executable).
std::vector<std::string>& process_arguments();

// Exit status a command asks for without printing an error (e.g. `circuit fmt --check`).
struct ExitRequest {
  int code;
};

}  // namespace circuit::cli
