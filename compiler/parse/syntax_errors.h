// The parse stage's ANTLR error listener and recovery strategy: turns ANTLR's messages ("mismatched input ...") into
// our wording and E001/E002 diagnostics, one per offending token.
#pragma once

#include "antlr4-runtime.h"

#include "compiler/diagnostics/diagnostic.h"

namespace circuit::compiler {

class SyntaxErrorListener : public antlr4::BaseErrorListener {
 public:
  SyntaxErrorListener(const SourceText& source, Diagnostics& diagnostics)
      : source_(source), diagnostics_(diagnostics) {}

  void syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending, size_t line,
                   size_t column, const std::string& message, std::exception_ptr error) override;
  int count() const { return count_; }

 private:
  const SourceText& source_;
  Diagnostics& diagnostics_;
  int count_ = 0;
  size_t last_token_ = SIZE_MAX;
  size_t last_line_ = SIZE_MAX;
};

// Recovery after a syntax error: skip to the next declaration keyword (model, use, let,
// circuit, task, expect) so one mistake yields one error and the declarations after it are
// still checked.
class DeclarationRecovery : public antlr4::DefaultErrorStrategy {
 public:
  void recover(antlr4::Parser* parser, std::exception_ptr error) override;

 private:
  std::vector<std::pair<size_t, size_t>> tried_;  // (token index, parser state) recovered at
};

// How a token type reads in a message: "'head'", "a name", "a string", "end of file".
std::string describe_token_type(const antlr4::dfa::Vocabulary& vocabulary, size_t type);

}  // namespace circuit::compiler
