// Transformer: expressions (operators, calls, literals, lists and records).
#include <charconv>
#include <cstdlib>

#include "compiler/parse/parser.h"
#include "compiler/parse/transformer.h"

namespace circuit::compiler {

using P = circuit_antlr::CircuitParser;
using ast::ExprKind;

namespace {

ast::ExprPtr make(ExprKind kind, Span span) {
  auto e = std::make_unique<ast::Expr>();
  e->kind = kind;
  e->span = span;
  return e;
}

// Counts expression depth so a pathological input gets E003, not a stack overflow.
struct DepthGuard {
  int& depth;
  explicit DepthGuard(int& d) : depth(d) { ++depth; }
  ~DepthGuard() { --depth; }
};

constexpr int kMaxExprDepth = 1000;

}  // namespace

ast::ExprPtr Transformer::transform_expr(P::ExprContext* ctx) {
  DepthGuard guard(depth_);
  if (depth_ > kMaxExprDepth) {
    diagnostics_.report("E003", span_of(ctx),
                        "expression nested too deeply (more than " + std::to_string(kMaxExprDepth) + " levels)",
                        "split it with `let` bindings");
    return make(ExprKind::Name, span_of(ctx));
  }
  Span span = span_of(ctx);
  if (auto* c = dynamic_cast<P::PrimaryExprContext*>(ctx)) return transform_primary(c->primary());
  if (auto* c = dynamic_cast<P::MemberExprContext*>(ctx)) {
    auto e = make(ExprKind::Member, span);
    e->items.push_back(transform_expr(c->expr()));
    e->text = c->ID()->getText();
    e->text_span = span_of(c->ID());
    return e;
  }
  if (auto* c = dynamic_cast<P::AtExprContext*>(ctx)) {
    auto e = make(ExprKind::At, span);
    e->items.push_back(transform_expr(c->expr()));
    e->position = transform_position(c->position());
    return e;
  }
  if (auto* c = dynamic_cast<P::WhereExprContext*>(ctx)) {
    auto e = make(ExprKind::Where, span);
    e->items.push_back(transform_expr(c->expr()));
    e->items.push_back(transform_primary(c->primary(0)));
    e->comparator = transform_comparator(c->comparator());
    e->items.push_back(transform_primary(c->primary(1)));
    return e;
  }
  if (auto* c = dynamic_cast<P::PathExprContext*>(ctx)) {
    // a -> b -> c parses as ((a -> b) -> c); walk the left spine to get one chain.
    std::vector<P::ExprContext*> operands{c->expr(1)};
    P::ExprContext* left = c->expr(0);
    while (auto* inner = dynamic_cast<P::PathExprContext*>(left)) {
      operands.push_back(inner->expr(1));
      left = inner->expr(0);
    }
    operands.push_back(left);
    auto e = make(ExprKind::Path, span);
    for (auto it = operands.rbegin(); it != operands.rend(); ++it) e->items.push_back(transform_expr(*it));
    return e;
  }
  auto binary = [&](ExprKind kind, P::ExprContext* a, P::ExprContext* b) {
    auto e = make(kind, span);
    e->items.push_back(transform_expr(a));
    e->items.push_back(transform_expr(b));
    return e;
  };
  if (auto* c = dynamic_cast<P::DifferenceExprContext*>(ctx)) return binary(ExprKind::Difference, c->expr(0), c->expr(1));
  if (auto* c = dynamic_cast<P::IntersectExprContext*>(ctx)) return binary(ExprKind::Intersect, c->expr(0), c->expr(1));
  if (auto* c = dynamic_cast<P::UnionExprContext*>(ctx)) return binary(ExprKind::Union, c->expr(0), c->expr(1));
  if (auto* c = dynamic_cast<P::OnExprContext*>(ctx)) return binary(ExprKind::On, c->expr(0), c->expr(1));
  throw InternalError("transform_expr: unknown expression form");
}

ast::ExprPtr Transformer::transform_primary(P::PrimaryContext* ctx) {
  DepthGuard guard(depth_);
  Span span = span_of(ctx);
  if (auto* c = dynamic_cast<P::ComponentPrimaryContext*>(ctx)) return transform_component(c->component());
  if (auto* c = dynamic_cast<P::CallPrimaryContext*>(ctx)) return transform_call(c);
  if (auto* c = dynamic_cast<P::NamePrimaryContext*>(ctx)) {
    auto e = make(ExprKind::Name, span);
    e->text = c->ID()->getText();
    return e;
  }
  if (auto* c = dynamic_cast<P::StringPrimaryContext*>(ctx)) {
    auto e = make(ExprKind::String, span);
    e->text = transform_string(c->STRING());
    return e;
  }
  if (auto* c = dynamic_cast<P::NumberPrimaryContext*>(ctx)) return transform_number(c);
  if (auto* c = dynamic_cast<P::RangePrimaryContext*>(ctx)) {
    auto e = make(ExprKind::Range, span);
    e->range_begin = std::strtoll(c->INT(0)->getText().c_str(), nullptr, 10);
    e->range_end = std::strtoll(c->INT(1)->getText().c_str(), nullptr, 10);
    return e;
  }
  if (auto* c = dynamic_cast<P::BoolPrimaryContext*>(ctx)) {
    auto e = make(ExprKind::Bool, span);
    e->boolean = c->getText() == "true";
    return e;
  }
  if (auto* c = dynamic_cast<P::ListPrimaryContext*>(ctx)) {
    auto e = make(ExprKind::List, span);
    for (auto* item : c->expr()) e->items.push_back(transform_expr(item));
    return e;
  }
  if (auto* c = dynamic_cast<P::RecordPrimaryContext*>(ctx)) {
    auto e = make(ExprKind::Record, span);
    for (auto* entry : c->entry()) {
      e->labels.push_back(entry->label()->getText());
      e->label_spans.push_back(span_of(entry->label()));
      e->items.push_back(transform_expr(entry->expr()));
    }
    return e;
  }
  if (auto* c = dynamic_cast<P::ParenPrimaryContext*>(ctx)) return transform_expr(c->expr());
  throw InternalError("transform_primary: unknown primary form");
}

ast::ExprPtr Transformer::transform_call(P::CallPrimaryContext* ctx) {
  auto e = make(ExprKind::Call, span_of(ctx));
  e->text = ctx->ID()->getText();
  e->text_span = span_of(ctx->ID());
  for (auto* argument : ctx->argument()) {
    if (argument->label()) {
      e->labels.push_back(argument->label()->getText());
      e->label_spans.push_back(span_of(argument->label()));
    } else {
      e->labels.emplace_back();
      e->label_spans.push_back(span_of(argument));
    }
    e->items.push_back(transform_expr(argument->expr()));
  }
  return e;
}

ast::ExprPtr Transformer::transform_number(P::NumberPrimaryContext* ctx) {
  auto e = make(ExprKind::Number, span_of(ctx));
  e->text = ctx->getText();
  e->number = std::strtod(e->text.c_str(), nullptr);
  if (ctx->INT()) {
    long long value = 0;
    std::string digits = ctx->INT()->getText();
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc()) diagnostics_.report("E004", e->span, "integer " + e->text + " is too large");
  }
  return e;
}

std::string Transformer::transform_string(antlr4::tree::TerminalNode* node) {
  std::string raw = node->getText();
  std::string out;
  for (size_t i = 1; i + 1 < raw.size(); ++i) {
    if (raw[i] != '\\') {
      out += raw[i];
      continue;
    }
    char next = raw[++i];
    switch (next) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      default: {
        Span whole = span_of(node);
        uint32_t at = whole.begin + static_cast<uint32_t>(i) - 1;
        diagnostics_.report("E002", make_span(source_, at, at + 2),
                            std::string("unknown escape '\\") + next + "' in string",
                            "use \\n, \\t, \\\" or \\\\");
      }
    }
  }
  return out;
}

}  // namespace circuit::compiler
