// Transformer: top-level declarations (model, use, let, circuit, task, expect).
#include "compiler/parse/transformer.h"

namespace circuit::compiler {

using P = circuit_antlr::CircuitParser;

Span Transformer::span_of(antlr4::ParserRuleContext* ctx) const {
  auto* start = ctx->getStart();
  auto* stop = ctx->getStop();
  size_t first = start->getStartIndex();
  size_t last = stop && stop->getStopIndex() != SIZE_MAX && stop->getStopIndex() + 1 >= first ? stop->getStopIndex() + 1
                                                                                             : first;
  return make_span(source_, source_.byte_offset(first), source_.byte_offset(last));
}

Span Transformer::span_of(antlr4::Token* token) const {
  return make_span(source_, source_.byte_offset(token->getStartIndex()), source_.byte_offset(token->getStopIndex() + 1));
}

ast::Decl Transformer::transform_item(P::ItemContext* ctx) {
  if (auto* c = ctx->modelDecl()) return transform_model(c);
  if (auto* c = ctx->useDecl()) return transform_use(c);
  if (auto* c = ctx->letDecl()) return transform_let(c);
  if (auto* c = ctx->circuitDecl()) return transform_circuit(c);
  if (auto* c = ctx->taskDecl()) return transform_task(c);
  if (auto* c = ctx->expectDecl()) return transform_expect(c);
  throw InternalError("transform_item: unknown declaration");
}

ast::Decl Transformer::transform_model(P::ModelDeclContext* ctx) {
  ast::Decl decl;
  decl.kind = ast::DeclKind::Model;
  decl.span = span_of(ctx);
  decl.name = transform_string(ctx->STRING());
  decl.name_span = span_of(ctx->STRING());
  return decl;
}

ast::Decl Transformer::transform_use(P::UseDeclContext* ctx) {
  ast::Decl decl;
  decl.span = span_of(ctx);
  if (auto* file = dynamic_cast<P::UseFileContext*>(ctx)) {
    decl.kind = ast::DeclKind::UseFile;
    decl.name = transform_string(file->STRING());
    decl.name_span = span_of(file->STRING());
  } else if (auto* registry = dynamic_cast<P::UseRegistryContext*>(ctx)) {
    decl.kind = ast::DeclKind::UseRegistry;
    decl.name = transform_string(registry->STRING(0));
    decl.name_span = span_of(registry->STRING(0));
    if (registry->STRING().size() > 1) decl.version = transform_string(registry->STRING(1));
  }
  return decl;
}

ast::Decl Transformer::transform_let(P::LetDeclContext* ctx) {
  ast::Decl decl;
  decl.kind = ast::DeclKind::Let;
  decl.span = span_of(ctx);
  decl.name = ctx->ID()->getText();
  decl.name_span = span_of(ctx->ID());
  decl.value = transform_expr(ctx->expr());
  return decl;
}

ast::Decl Transformer::transform_circuit(P::CircuitDeclContext* ctx) {
  ast::Decl decl;
  decl.kind = ast::DeclKind::Circuit;
  decl.span = span_of(ctx);
  decl.name = ctx->ID()->getText();
  decl.name_span = span_of(ctx->ID());
  if (auto* params = ctx->paramList()) {
    decl.has_params = true;
    for (auto* param : params->param()) decl.params.push_back(transform_param(param));
  }
  if (ctx->expr()) {
    decl.value = transform_expr(ctx->expr());
  } else {
    decl.has_body = true;
    for (auto* item : ctx->bodyItem()) decl.body.push_back(transform_expr(item->expr()));
  }
  return decl;
}

ast::Param Transformer::transform_param(P::ParamContext* ctx) {
  ast::Param param;
  param.name = ctx->ID(0)->getText();
  param.span = span_of(ctx->ID(0));
  param.type = ctx->type->getText();
  param.type_span = span_of(ctx->type);
  return param;
}

ast::Decl Transformer::transform_task(P::TaskDeclContext* ctx) {
  ast::Decl decl;
  decl.kind = ast::DeclKind::Task;
  decl.span = span_of(ctx);
  decl.name = ctx->ID()->getText();
  decl.name_span = span_of(ctx->ID());
  for (auto* property : ctx->property()) decl.properties.push_back(transform_property(property));
  return decl;
}

ast::Property Transformer::transform_property(P::PropertyContext* ctx) {
  ast::Property property;
  property.name = ctx->ID()->getText();
  property.name_span = span_of(ctx->ID());
  property.value = transform_expr(ctx->expr());
  return property;
}

ast::Decl Transformer::transform_expect(P::ExpectDeclContext* ctx) {
  ast::Decl decl;
  decl.kind = ast::DeclKind::Expect;
  decl.span = span_of(ctx);
  decl.value = transform_expr(ctx->expr(0));
  decl.comparator = transform_comparator(ctx->comparator());
  decl.bound = transform_expr(ctx->expr(1));
  return decl;
}

ast::Comparator Transformer::transform_comparator(P::ComparatorContext* ctx) {
  std::string op = ctx->getText();
  if (op == ">") return ast::Comparator::Greater;
  if (op == ">=") return ast::Comparator::GreaterEqual;
  if (op == "<") return ast::Comparator::Less;
  if (op == "<=") return ast::Comparator::LessEqual;
  if (op == "==") return ast::Comparator::Equal;
  return ast::Comparator::NotEqual;
}

}  // namespace circuit::compiler
