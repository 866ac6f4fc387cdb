// The table of diagnostic codes (E0xx errors, W0xx warnings): one row each with a short title
// and the long explanation `circuit explain CODE` prints and docs/language.md lists.
#pragma once

#include <span>
#include <string_view>

namespace circuit::compiler {

struct DiagnosticCode {
  std::string_view code;      // "E012"
  std::string_view title;     // one line
  std::string_view explanation;  // a paragraph and an example
};

std::span<const DiagnosticCode> diagnostic_codes();
// nullptr when the code is unknown (case-insensitive lookup).
const DiagnosticCode* find_diagnostic_code(std::string_view code);

}  // namespace circuit::compiler
