// The parse stage's entry point: source text in, our own AST out (ANTLR stays inside
// compiler/parse/). Syntax errors become E001/E002 diagnostics, several per run; input nested
// beyond kMaxNesting gets E003 instead of exhausting the stack, and a file over
// kMaxSourceBytes gets E006 before anything is lexed, so memory stays a bounded multiple of it.
#pragma once

#include "compiler/ast/ast.h"
#include "compiler/diagnostics/diagnostic.h"

namespace circuit::compiler {

inline constexpr int kMaxNesting = 100;
// The largest .circuit file: far above any real one (4,096 long prompts are about 1 MiB), low
// enough that checking one takes a few hundred MiB at most (docs/language.md).
inline constexpr size_t kMaxSourceBytes = size_t{8} << 20;

// Parses one file. On syntax errors the returned File holds what parsed cleanly (possibly
// nothing) and `diagnostics` has the errors.
ast::File parse_source(const SourceText& source, Diagnostics& diagnostics);

// The tokens of a file (`circuit compile --emit tokens`): one "line:col KIND 'text'" per token.
std::string dump_tokens(const SourceText& source);

}  // namespace circuit::compiler
