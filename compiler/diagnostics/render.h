// Renders diagnostics for people (`file:line:col: error[E012]: message`, the source line,
// `^^^` under the span, hint and notes) and for tools (`--format json`).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "compiler/diagnostics/diagnostic.h"

namespace circuit::compiler {

std::string render_text(const Diagnostic& diagnostic);
std::string render_text(const std::vector<Diagnostic>& diagnostics);
nlohmann::json render_json(const Diagnostic& diagnostic);
nlohmann::json render_json(const std::vector<Diagnostic>& diagnostics);

}  // namespace circuit::compiler
