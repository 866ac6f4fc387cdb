// Program and Module: a .circuit file with every file it imports, parsed, as the resolve stage
// builds it (load_program follows `use "file.circuit"` relative to the importing file, then
// along the stdlib search path; a cycle is E021 naming the whole cycle).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "compiler/ast/ast.h"
#include "compiler/diagnostics/diagnostic.h"
#include "compiler/resolve/source_resolver.h"

namespace circuit::compiler {

struct Module {
  std::unique_ptr<SourceText> source;
  ast::File file;
  std::vector<Module*> imports;  // in `use` order; null where the import failed
  std::string key;               // canonical path, to load each file once
};

struct Program {
  std::vector<std::unique_ptr<Module>> modules;  // modules[0] is the file asked for
  Module* main() const { return modules.empty() ? nullptr : modules.front().get(); }
};

struct LoadOptions {
  std::vector<std::string> search_path;  // folders searched after the importing file's folder
  // Where files may be read from; null: anywhere (the CLI), with `search_path` above. The
  // server passes its bounded resolver, which carries its own search path.
  const SourceResolver* resolver = nullptr;
};

// The default search path: $CIRCUIT_STDLIB if set, else the source tree's stdlib/.
std::vector<std::string> default_search_path();

// Loads `path` (text read from disk) and its imports. A missing (or, bounded, a foreign) main
// file is a thrown std::runtime_error (the CLI's one-line error); everything else goes to `diagnostics`.
Program load_program(const std::string& path, const LoadOptions& options, Diagnostics& diagnostics);
// Same, from text already in memory (tests, the fuzzer, the live server).
Program load_program_text(const std::string& path, std::string text, const LoadOptions& options,
                          Diagnostics& diagnostics);

}  // namespace circuit::compiler
