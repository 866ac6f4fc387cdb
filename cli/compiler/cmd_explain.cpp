// `circuit explain CODE`: the long explanation of a diagnostic code, from the code table.
#include <CLI/CLI.hpp>
#include <iostream>
#include <stdexcept>

#include "command_registry.h"
#include "compiler/diagnostics/codes.h"

namespace {

circuit::cli::CommandRegistrar reg{23, "explain", [](CLI::App& app) {
  auto code = std::make_shared<std::string>();
  auto list = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("explain", "Explain a diagnostic code (E012, W001, ...)");
  cmd->add_option("code", *code, "the code, as printed in brackets");
  cmd->add_flag("--list", *list, "list every code as a Markdown table (docs/language.md)");
  cmd->callback([code, list] {
    if (*list) {
      std::cout << "| code | meaning |\n|---|---|\n";
      for (const auto& row : circuit::compiler::diagnostic_codes())
        std::cout << "| " << row.code << " | " << row.title << " |\n";
      return;
    }
    if (code->empty()) throw std::runtime_error("name a code (circuit explain E012) or use --list");
    const auto* row = circuit::compiler::find_diagnostic_code(*code);
    if (row == nullptr)
      throw std::runtime_error("unknown diagnostic code '" + *code + "'; circuit explain --list shows them all");
    std::cout << row->code << ": " << row->title << "\n\n" << row->explanation;
  });
}};

}  // namespace
