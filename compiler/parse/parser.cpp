// Drives the ANTLR lexer and parser, checks nesting before parsing, collects comments and
// attaches `///` doc comments to the declaration that follows them.
#include "compiler/parse/parser.h"

#include "CircuitLexer.h"
#include "CircuitParser.h"
#include "compiler/parse/syntax_errors.h"
#include "compiler/parse/transformer.h"

namespace circuit::compiler {
namespace {

using L = circuit_antlr::CircuitLexer;

// A comment token, kept from the first pass (the parser never sees comments).
struct CommentToken {
  uint32_t begin = 0, end = 0;  // bytes
  std::string text;
  bool doc = false;
};

// The first pass over the tokens, one at a time and none kept: bracket nesting deeper than
// kMaxNesting (it would recurse deeply in the generated parser) is E003, and the comments are
// collected. False after E003.
bool first_pass(const SourceText& source, L& lexer, std::vector<CommentToken>& comments, Diagnostics& diagnostics) {
  int depth = 0;
  for (auto token = lexer.nextToken(); token->getType() != antlr4::Token::EOF; token = lexer.nextToken()) {
    const size_t type = token->getType();
    if (type == L::DOC_COMMENT || type == L::LINE_COMMENT || type == L::BLOCK_COMMENT) {
      std::string text = token->getText();
      while (!text.empty() && text.back() == '\r') text.pop_back();
      comments.push_back({source.byte_offset(token->getStartIndex()), source.byte_offset(token->getStopIndex() + 1),
                          std::move(text), type == L::DOC_COMMENT});
      continue;
    }
    if (token->getChannel() != 0) continue;
    const std::string text = token->getText();
    if (text == "(" || text == "[" || text == "{") {
      if (++depth > kMaxNesting) {
        uint32_t begin = source.byte_offset(token->getStartIndex());
        diagnostics.report("E003", make_span(source, begin, begin + 1),
                           "brackets nested too deeply (more than " + std::to_string(kMaxNesting) + " levels)",
                           "split the expression with `let` bindings");
        return false;
      }
    } else if (text == ")" || text == "]" || text == "}") {
      depth = std::max(0, depth - 1);
    }
  }
  return true;
}

// The lexer's default-channel tokens: what the parser reads (CommonTokenStream's filtering,
// for a stream that does not keep every token).
class DefaultChannel : public antlr4::TokenSource {
 public:
  explicit DefaultChannel(L& lexer) : lexer_(lexer) {}
  std::unique_ptr<antlr4::Token> nextToken() override {
    for (;;) {
      auto token = lexer_.nextToken();
      if (token->getChannel() == antlr4::Token::DEFAULT_CHANNEL || token->getType() == antlr4::Token::EOF) return token;
    }
  }
  size_t getLine() const override { return lexer_.getLine(); }
  size_t getCharPositionInLine() override { return lexer_.getCharPositionInLine(); }
  antlr4::CharStream* getInputStream() override { return lexer_.getInputStream(); }
  std::string getSourceName() override { return lexer_.getSourceName(); }
  antlr4::TokenFactory<antlr4::CommonToken>* getTokenFactory() override { return lexer_.getTokenFactory(); }

 private:
  L& lexer_;
};

std::string strip_doc(const std::string& text) {
  std::string body = text.substr(3);
  if (!body.empty() && body[0] == ' ') body.erase(0, 1);
  while (!body.empty() && (body.back() == '\r' || body.back() == ' ')) body.pop_back();
  return body;
}

}  // namespace

ast::File parse_source(const SourceText& source, Diagnostics& diagnostics) {
  ast::File empty;
  empty.source = &source;
  if (source.text.size() > kMaxSourceBytes) {
    diagnostics.report("E006", make_span(source, 0, 0),
                       "the file holds more than " + std::to_string(kMaxSourceBytes >> 20) +
                           " MiB, the most a .circuit file may hold",
                       "split it into files that `use` each other");
    return empty;
  }
  if (source.invalid_utf8_at >= 0) {
    uint32_t at = static_cast<uint32_t>(source.invalid_utf8_at);
    diagnostics.report("E002", make_span(source, at, at + 1), "the file is not valid UTF-8 here",
                       "save the file as UTF-8");
    return empty;
  }
  antlr4::ANTLRInputStream input;
  try {
    input.load(source.text);
  } catch (const std::exception&) {  // UTF-8 our check accepts but the runtime does not (surrogates)
    diagnostics.report("E002", make_span(source, 0, 0), "the file is not valid UTF-8", "save the file as UTF-8");
    return empty;
  }
  L lexer(&input);
  lexer.removeErrorListeners();
  std::vector<CommentToken> comments;
  if (!first_pass(source, lexer, comments, diagnostics)) return empty;
  lexer.reset();

  // The second pass parses from a stream that keeps only the tokens of the declaration being
  // parsed (a mark holds them until its AST is built): ANTLR's buffered stream would keep every
  // token of the file, some 60 times its size.
  DefaultChannel channel(lexer);
  antlr4::UnbufferedTokenStream tokens(&channel);
  circuit_antlr::CircuitParser parser(&tokens);
  SyntaxErrorListener listener(source, diagnostics);
  parser.removeErrorListeners();
  parser.addErrorListener(&listener);
  parser.setErrorHandler(std::make_shared<DeclarationRecovery>());

  // One top-level declaration at a time (the grammar's `file : item* EOF`), each turned into
  // AST and its parse tree freed before the next: the trees of a whole large file would take
  // a hundred times its size. After a syntax error the rest is still parsed, for its errors.
  ast::File file;
  file.source = &source;
  Transformer transformer(source, diagnostics);
  while (tokens.LA(1) != antlr4::Token::EOF) {
    const ssize_t mark = tokens.mark();
    const size_t before = tokens.index();
    auto* item = parser.item();
    if (listener.count() == 0) file.decls.push_back(transformer.transform_item(item));
    parser.getTreeTracker().reset();
    // Recovery that stayed put: step over the token on the stream itself. Parser::consume()
    // would add it to the parser's current context, which is gone (or freed just above).
    if (tokens.index() == before) tokens.consume();
    tokens.release(mark);
  }
  if (listener.count() > 0) return empty;

  // Comments, in order; doc comments also go to the declaration right after them.
  size_t next_decl = 0;
  for (auto& c : comments) {
    file.comments.push_back({make_span(source, c.begin, c.end), c.text, c.doc});
    if (!c.doc) continue;
    while (next_decl < file.decls.size() && file.decls[next_decl].span.end <= c.begin) ++next_decl;
    if (next_decl < file.decls.size() && file.decls[next_decl].span.begin > c.begin)
      file.decls[next_decl].docs.push_back(strip_doc(c.text));
  }
  return file;
}

std::string dump_tokens(const SourceText& source) {
  if (source.invalid_utf8_at >= 0)
    return source.path + ": not valid UTF-8 at byte " + std::to_string(source.invalid_utf8_at) + "\n";
  antlr4::ANTLRInputStream input;
  try {
    input.load(source.text);
  } catch (const std::exception&) {
    return source.path + ": not valid UTF-8\n";
  }
  L lexer(&input);
  lexer.removeErrorListeners();
  antlr4::CommonTokenStream tokens(&lexer);
  tokens.fill();
  std::string out;
  const auto& vocabulary = lexer.getVocabulary();
  for (auto* token : tokens.getTokens()) {
    std::string name = token->getType() == antlr4::Token::EOF ? "EOF" : vocabulary.getSymbolicName(token->getType());
    if (name.empty()) name = vocabulary.getLiteralName(token->getType());
    // Line and column (in code points, as ANTLR counts) from the source's line table, which
    // also breaks lines at a lone "\r"; ANTLR's own count only "\n".
    const size_t start = std::min(token->getStartIndex(), source.code_point_bytes.empty()
                                                              ? source.text.size()
                                                              : source.code_point_bytes.size() - 1);
    const uint32_t begin = source.byte_offset(start);
    const int line = source.line_of(begin);
    const size_t col = start - source.code_point_index(source.line_starts[line - 1]) + 1;
    out += std::to_string(line) + ":" + std::to_string(col) + " " + name;
    if (token->getType() != antlr4::Token::EOF) out += " " + token->getText();
    out += "\n";
  }
  return out;
}

}  // namespace circuit::compiler
