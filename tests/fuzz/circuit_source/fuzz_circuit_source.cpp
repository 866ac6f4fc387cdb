// Fuzz target: arbitrary bytes as a .circuit file through parse, name resolution, type
// checking and formatting. Any input must yield diagnostics, never a crash; a file that parses
// must format to text that parses again.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "compiler/driver/compilation.h"
#include "compiler/format/formatter.h"
#include "compiler/parse/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace circuit::compiler;
  std::string text(reinterpret_cast<const char*>(data), size);
  CompileOptions options;  // no search path and no model: imports fail cleanly, no disk reads
  auto compilation = check_text("fuzz.circuit", text, options);
  (void)compilation;

  SourceText source("fuzz.circuit", text);
  Diagnostics diagnostics;
  ast::File file = parse_source(source, diagnostics);
  if (!diagnostics.has_errors()) {
    SourceText formatted("formatted.circuit", format_file(file));
    Diagnostics again;
    parse_source(formatted, again);
    if (again.has_errors()) std::abort();  // fmt produced text that does not parse
  }
  return 0;
}
