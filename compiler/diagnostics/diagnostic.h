// Diagnostic: the one type every compiler stage reports a user's mistake with (span, code,
// severity, message, hint, notes), plus the Diagnostics sink that collects them. Rendering to
// text and JSON is in render.h; the codes and their long explanations are in codes.h.
#pragma once

#include <string>
#include <vector>

#include "compiler/diagnostics/source.h"

namespace circuit::compiler {

enum class Severity { Error, Warning };

struct DiagnosticNote {
  Span span;  // may be invalid: a note without a location
  std::string message;
};

struct Diagnostic {
  Span span;
  std::string code;  // "E012", "W001"; see codes.h
  Severity severity = Severity::Error;
  std::string message;
  std::string hint;  // "did you mean 9.6?"; empty when none
  std::vector<DiagnosticNote> notes;
};

// Collects diagnostics in the order stages report them; the severity comes from the code.
class Diagnostics {
 public:
  Diagnostic& report(std::string code, Span span, std::string message, std::string hint = {});
  const std::vector<Diagnostic>& all() const { return items_; }
  bool has_errors() const { return errors_ > 0; }
  int error_count() const { return errors_; }
  int warning_count() const { return static_cast<int>(items_.size()) - errors_; }
  // Sorted by file, then position (stable for equal positions), for deterministic output;
  // exact repeats are dropped.
  void sort();

 private:
  std::vector<Diagnostic> items_;
  int errors_ = 0;
};

// Our own bug, never the user's: thrown by internal_check and reported as an internal error.
class InternalError : public std::exception {
 public:
  explicit InternalError(std::string what) : what_("internal compiler error: " + std::move(what)) {}
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  std::string what_;
};

inline void internal_check(bool condition, const char* what) {
  if (!condition) throw InternalError(what);
}

}  // namespace circuit::compiler
