// Diagnostics sink.
#include "compiler/diagnostics/diagnostic.h"

#include <algorithm>

namespace circuit::compiler {

Diagnostic& Diagnostics::report(std::string code, Span span, std::string message, std::string hint) {
  Severity severity = !code.empty() && code[0] == 'W' ? Severity::Warning : Severity::Error;
  if (severity == Severity::Error) ++errors_;
  items_.push_back(Diagnostic{span, std::move(code), severity, std::move(message), std::move(hint), {}});
  return items_.back();
}

void Diagnostics::sort() {
  std::stable_sort(items_.begin(), items_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    std::string_view pa = a.span.valid() ? std::string_view(a.span.source->path) : "";
    std::string_view pb = b.span.valid() ? std::string_view(b.span.source->path) : "";
    if (pa != pb) return pa < pb;
    return a.span.begin < b.span.begin;
  });
  // One place can be reached twice (a vocabulary shared by the answer and the wrong slot).
  auto same = [](const Diagnostic& a, const Diagnostic& b) {
    return a.span.source == b.span.source && a.span.begin == b.span.begin && a.code == b.code && a.message == b.message;
  };
  items_.erase(std::unique(items_.begin(), items_.end(), same), items_.end());
  errors_ = static_cast<int>(std::count_if(items_.begin(), items_.end(),
                                           [](const Diagnostic& d) { return d.severity == Severity::Error; }));
}

}  // namespace circuit::compiler
