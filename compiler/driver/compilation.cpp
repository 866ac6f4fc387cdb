// The front end, stage by stage.
#include "compiler/driver/compilation.h"

#include <stdexcept>

namespace circuit::compiler {
namespace {

void run_front_end(Compilation& c, const CompileOptions& options) {
  Diagnostics& diagnostics = c.diagnostics;
  c.resolution = resolve_names(c.program, diagnostics);
  c.types = check_types(c.program, c.resolution, diagnostics);

  Span where;
  std::string model = model_name_of(c.program, options.model_override, &where, diagnostics);
  if (!model.empty() && options.models != nullptr) {
    std::string error;
    c.model = options.models->find(model, error);
    if (c.model == nullptr) {
      if (!where.valid()) throw std::runtime_error(error);  // --model: the command line's mistake
      diagnostics.report("E023", where, "cannot load model '" + model + "'", error);
    } else if (!diagnostics.has_errors()) {
      // Shape checks read resolved names and types; on a broken file they would only add noise.
      check_against_model(c.program, c.resolution, c.types, *c.model, diagnostics);
    }
  }
  diagnostics.sort();
}

}  // namespace

std::unique_ptr<Compilation> check_file(const std::string& path, const CompileOptions& options) {
  auto c = std::make_unique<Compilation>();
  c->program = load_program(path, options.load, c->diagnostics);
  run_front_end(*c, options);
  return c;
}

std::unique_ptr<Compilation> check_text(const std::string& path, std::string text, const CompileOptions& options) {
  auto c = std::make_unique<Compilation>();
  c->program = load_program_text(path, std::move(text), options.load, c->diagnostics);
  run_front_end(*c, options);
  return c;
}

}  // namespace circuit::compiler
