// Transformer: turns ANTLR parse trees into our AST, one transform function per grammar rule,
// split by construct over transform_decls.cpp, transform_exprs.cpp and
// transform_components.cpp. Private to the parse stage: only parser.cpp includes it.
#pragma once

#include "CircuitParser.h"
#include "compiler/ast/ast.h"
#include "compiler/diagnostics/diagnostic.h"

namespace circuit::compiler {

class Transformer {
 public:
  Transformer(const SourceText& source, Diagnostics& diagnostics)
      : source_(source), diagnostics_(diagnostics) {}

  // Declarations (transform_decls.cpp).
  ast::Decl transform_item(circuit_antlr::CircuitParser::ItemContext* ctx);
  ast::Decl transform_model(circuit_antlr::CircuitParser::ModelDeclContext* ctx);
  ast::Decl transform_use(circuit_antlr::CircuitParser::UseDeclContext* ctx);
  ast::Decl transform_let(circuit_antlr::CircuitParser::LetDeclContext* ctx);
  ast::Decl transform_circuit(circuit_antlr::CircuitParser::CircuitDeclContext* ctx);
  ast::Param transform_param(circuit_antlr::CircuitParser::ParamContext* ctx);
  ast::Decl transform_task(circuit_antlr::CircuitParser::TaskDeclContext* ctx);
  ast::Property transform_property(circuit_antlr::CircuitParser::PropertyContext* ctx);
  ast::Decl transform_expect(circuit_antlr::CircuitParser::ExpectDeclContext* ctx);
  ast::Comparator transform_comparator(circuit_antlr::CircuitParser::ComparatorContext* ctx);

  // Expressions (transform_exprs.cpp).
  ast::ExprPtr transform_expr(circuit_antlr::CircuitParser::ExprContext* ctx);
  ast::ExprPtr transform_primary(circuit_antlr::CircuitParser::PrimaryContext* ctx);
  ast::ExprPtr transform_call(circuit_antlr::CircuitParser::CallPrimaryContext* ctx);
  ast::ExprPtr transform_number(circuit_antlr::CircuitParser::NumberPrimaryContext* ctx);
  std::string transform_string(antlr4::tree::TerminalNode* node);

  // Components and positions (transform_components.cpp).
  ast::ExprPtr transform_component(circuit_antlr::CircuitParser::ComponentContext* ctx);
  ast::AddressPart transform_address_part(circuit_antlr::CircuitParser::AddressPartContext* ctx);
  ast::Position transform_position(circuit_antlr::CircuitParser::PositionContext* ctx);

  Span span_of(antlr4::ParserRuleContext* ctx) const;
  Span span_of(antlr4::Token* token) const;
  Span span_of(antlr4::tree::TerminalNode* node) const { return span_of(node->getSymbol()); }

 private:
  const SourceText& source_;
  Diagnostics& diagnostics_;
  int depth_ = 0;  // expression nesting, bounded by kMaxNesting
};

}  // namespace circuit::compiler
