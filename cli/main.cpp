// The `circuit` command: builds the CLI11 app from the registered subcommands and turns
// errors into one line on stderr and a non-zero exit status.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <exception>
#include <iostream>

#include "command_registry.h"

namespace circuit::cli {
std::vector<CommandEntry>& command_registry() {
  static std::vector<CommandEntry> entries;
  return entries;
}
std::vector<std::string>& process_arguments() {
  static std::vector<std::string> arguments;
  return arguments;
}
}  // namespace circuit::cli

int main(int argc, char** argv) {
  using namespace circuit::cli;
  process_arguments().assign(argv, argv + argc);
  CLI::App app{"circuit: write, check and run mechanistic-interpretability circuits"};
  app.set_version_flag("--version", std::string("circuit ") + CIRCUIT_VERSION);
  app.require_subcommand(1);
  auto& entries = command_registry();
  std::stable_sort(entries.begin(), entries.end(),
                   [](const CommandEntry& a, const CommandEntry& b) { return a.order < b.order; });
  for (auto& entry : entries) entry.setup(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line, like every other error: CLI11's own exit() adds a second "Run with --help".
    std::cerr << "circuit: error: " << e.what() << " (see --help)\n";
    return e.get_exit_code();
  } catch (const ExitRequest& request) {
    return request.code;
  } catch (const std::exception& e) {
    std::cerr << "circuit: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
