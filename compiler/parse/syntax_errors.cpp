// Our wording for ANTLR's syntax errors.
#include "compiler/parse/syntax_errors.h"

#include <algorithm>

#include "CircuitLexer.h"

namespace circuit::compiler {
namespace {

std::string quoted_token(antlr4::Token* token) {
  if (token->getType() == antlr4::Token::EOF) return "end of file";
  std::string text = token->getText();
  if (text.size() > 30) text = text.substr(0, 27) + "...";
  return "'" + text + "'";
}

bool starts_declaration(antlr4::Recognizer* recognizer, size_t type) {
  static const std::string keywords[] = {"'model'", "'use'", "'let'", "'circuit'", "'task'", "'expect'"};
  std::string literal = recognizer->getVocabulary().getLiteralName(type);
  for (const auto& k : keywords)
    if (literal == k) return true;
  return false;
}

}  // namespace

void DeclarationRecovery::recover(antlr4::Parser* parser, std::exception_ptr) {
  auto* input = parser->getTokenStream();
  std::pair<size_t, size_t> here{input->index(), parser->getState()};
  // Recovering twice at one place would loop forever: step over the token then.
  if (std::find(tried_.begin(), tried_.end(), here) != tried_.end() && input->LA(1) != antlr4::Token::EOF)
    parser->consume();
  tried_.push_back(here);
  beginErrorCondition(parser);
  while (input->LA(1) != antlr4::Token::EOF && !starts_declaration(parser, input->LA(1))) parser->consume();
}

std::string describe_token_type(const antlr4::dfa::Vocabulary& vocabulary, size_t type) {
  using L = circuit_antlr::CircuitLexer;
  switch (type) {
    case antlr4::Token::EOF: return "end of file";
    case L::ID: return "a name";
    case L::STRING: return "a string";
    case L::INT: return "an integer";
    case L::FLOAT: return "a number";
    default: break;
  }
  std::string literal = vocabulary.getLiteralName(type);
  return literal.empty() ? vocabulary.getDisplayName(type) : literal;
}

void SyntaxErrorListener::syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending,
                                      size_t /*line*/, size_t /*column*/, const std::string& message,
                                      std::exception_ptr) {
  using L = circuit_antlr::CircuitLexer;
  ++count_;
  // ANTLR's own line and column count only "\n"; positions come from the source's line table,
  // which also breaks lines at a lone "\r".
  if (offending == nullptr) {  // a lexer error; our lexer has a catch-all rule, so rare
    auto* lexer = dynamic_cast<antlr4::Lexer*>(recognizer);
    uint32_t offset = lexer ? source_.byte_offset(lexer->tokenStartCharIndex) : 0;
    diagnostics_.report("E002", make_span(source_, offset, offset + 1), "unexpected character");
    return;
  }
  uint32_t begin = source_.byte_offset(offending->getStartIndex());
  // One diagnostic per offending token: ANTLR's recovery can report the same place twice.
  // Recovery resumes at the offending token; a second complaint on its line is nearly always
  // the same mistake seen again.
  const size_t here_line = static_cast<size_t>(source_.line_of(begin));
  if (offending->getTokenIndex() == last_token_ || here_line == last_line_) return;
  last_token_ = offending->getTokenIndex();
  last_line_ = here_line;

  uint32_t end = offending->getType() == antlr4::Token::EOF ? begin : source_.byte_offset(offending->getStopIndex() + 1);
  Span span = make_span(source_, begin, end);
  if (offending->getType() == L::UNTERMINATED_STRING) {
    diagnostics_.report("E002", span, "unterminated string", "close it with '\"' on the same line");
    return;
  }
  if (offending->getType() == L::BAD_CHAR) {
    diagnostics_.report("E002", span, "unexpected character " + quoted_token(offending));
    return;
  }

  std::string text = "unexpected " + quoted_token(offending);
  std::string hint;
  if (auto* parser = dynamic_cast<antlr4::Parser*>(recognizer)) {
    antlr4::misc::IntervalSet expected = parser->getExpectedTokens();
    std::vector<std::string> names;
    for (size_t type : expected.toList()) names.push_back(describe_token_type(parser->getVocabulary(), type));
    if (!names.empty() && names.size() <= 5) {
      hint = "expected ";
      for (size_t i = 0; i < names.size(); ++i) {
        if (i > 0) hint += i + 1 == names.size() ? " or " : ", ";
        hint += names[i];
      }
    }
  }
  (void)message;
  if (hint.empty() && starts_declaration(recognizer, offending->getType()))
    hint = "the declaration before it is incomplete";
  if (hint.empty() && offending->getType() == antlr4::Token::EOF)
    hint = "the file ends in the middle of a declaration";
  diagnostics_.report("E001", span, text, hint);
}

}  // namespace circuit::compiler
