// `circuit fmt [--check] FILE|DIR...`: rewrite files in the canonical layout, keeping comments;
// with --check, only list the files that would change (exit 1 if any).
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "command_registry.h"
#include "compiler/diagnostics/render.h"
#include "compiler/driver/source_files.h"
#include "compiler/format/formatter.h"
#include "compiler/parse/parser.h"

namespace {

struct FmtArgs {
  std::vector<std::string> paths;
  bool check = false;
};

void run_fmt(const FmtArgs& args) {
  using namespace circuit::compiler;
  int changed = 0, broken = 0;
  for (const auto& path : expand_circuit_paths(args.paths)) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot read the file");
    std::ostringstream text;
    text << in.rdbuf();
    SourceText source(path, text.str());
    Diagnostics diagnostics;
    ast::File file = parse_source(source, diagnostics);
    if (diagnostics.has_errors()) {
      std::cerr << render_text(diagnostics.all());
      ++broken;
      continue;
    }
    std::string formatted = format_file(file);
    if (formatted == source.text) continue;
    ++changed;
    if (args.check) {
      std::cout << "would reformat " << path << "\n";
      continue;
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << formatted;
    if (!out) throw std::runtime_error(path + ": cannot write the file");
    std::cout << "formatted " << path << "\n";
  }
  if (broken > 0 || (args.check && changed > 0)) throw circuit::cli::ExitRequest{1};
}

circuit::cli::CommandRegistrar reg{22, "fmt", [](CLI::App& app) {
  auto args = std::make_shared<FmtArgs>();
  auto* cmd = app.add_subcommand("fmt", "Format .circuit files in place (comments are kept)");
  cmd->add_option("paths", args->paths, ".circuit files or folders")->required();
  cmd->add_flag("--check", args->check, "only report files that would change; exit 1 if any");
  cmd->callback([args] { run_fmt(*args); });
}};

}  // namespace
