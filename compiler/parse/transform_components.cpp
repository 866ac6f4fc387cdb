// Transformer: components (head 9.6, heads 9.*, mlp 3, neuron 3.1021, resid 5 pre, embed,
// logits) and position qualifiers (@ -1, @ "Mary", @ S2). The grammar accepts any address;
// the shape each kind needs is checked here, where the message can name the kind.
#include <cstdlib>

#include "compiler/parse/transformer.h"

namespace circuit::compiler {

using P = circuit_antlr::CircuitParser;
using ast::ComponentKind;

namespace {

ComponentKind kind_from_keyword(const std::string& word) {
  static const std::pair<const char*, ComponentKind> table[] = {
      {"head", ComponentKind::Head},     {"heads", ComponentKind::Heads},   {"kv_head", ComponentKind::KvHead},
      {"mlp", ComponentKind::Mlp},       {"attn", ComponentKind::Attn},     {"neuron", ComponentKind::Neuron},
      {"resid", ComponentKind::Resid},   {"embed", ComponentKind::Embed},   {"logits", ComponentKind::Logits}};
  for (const auto& [name, kind] : table)
    if (word == name) return kind;
  throw InternalError("unknown component keyword " + word);
}

// Which address shape a kind takes, for the E005 message.
const char* address_shape(ComponentKind kind) {
  switch (kind) {
    case ComponentKind::Head: return "LAYER.HEAD, e.g. head 9.6";
    case ComponentKind::Heads: return "LAYER.*, *.HEAD or *, e.g. heads 9.*";
    case ComponentKind::KvHead: return "LAYER.KV_HEAD, e.g. kv_head 9.1";
    case ComponentKind::Neuron: return "LAYER.NEURON, e.g. neuron 3.1021";
    case ComponentKind::Mlp: return "LAYER or *, e.g. mlp 3";
    case ComponentKind::Attn: return "LAYER or *, e.g. attn 2";
    case ComponentKind::Resid: return "LAYER and pre, mid or post, e.g. resid 5 pre";
    default: return "no address";
  }
}

}  // namespace

ast::AddressPart Transformer::transform_address_part(P::AddressPartContext* ctx) {
  ast::AddressPart part;
  part.span = span_of(ctx);
  if (ctx->INT()) {
    part.kind = ast::AddressPart::Kind::Number;
    part.number = std::strtoll(ctx->INT()->getText().c_str(), nullptr, 10);
    if (ctx->INT()->getText().size() > 9) part.number = 999999999;  // surely out of range
  } else if (ctx->ID()) {
    part.kind = ast::AddressPart::Kind::Name;
    part.name = ctx->ID()->getText();
  } else {
    part.kind = ast::AddressPart::Kind::All;
  }
  return part;
}

ast::ExprPtr Transformer::transform_component(P::ComponentContext* ctx) {
  auto e = std::make_unique<ast::Expr>();
  e->kind = ast::ExprKind::Component;
  e->span = span_of(ctx);
  ast::Component& c = e->component;
  P::AddressContext* address = nullptr;
  if (auto* indexed = dynamic_cast<P::IndexedComponentContext*>(ctx)) {
    c.kind = kind_from_keyword(indexed->kind->getText());
    address = indexed->address();
  } else if (auto* resid = dynamic_cast<P::ResidComponentContext*>(ctx)) {
    c.kind = ComponentKind::Resid;
    address = resid->address();
    std::string point = resid->point->getText();
    if (point == "pre") c.point = ast::ResidPoint::Pre;
    else if (point == "mid") c.point = ast::ResidPoint::Mid;
    else if (point == "post") c.point = ast::ResidPoint::Post;
    else
      diagnostics_.report("E005", span_of(resid->point),
                          "'" + point + "' is not a residual stream point",
                          "write resid LAYER pre, resid LAYER mid or resid LAYER post");
  } else if (auto* whole = dynamic_cast<P::WholeComponentContext*>(ctx)) {
    c.kind = kind_from_keyword(whole->kind->getText());
    return e;
  }
  if (address == nullptr) return e;

  // Split the address: `9.6` lexes as one FLOAT token; `9.*` and `l.6` as parts.
  if (auto* number = address->FLOAT()) {
    std::string text = number->getText();
    Span span = span_of(number);
    size_t dot = text.find('.');
    if (dot == std::string::npos || text.find_first_of("eE") != std::string::npos) {
      diagnostics_.report("E005", span, "'" + text + "' is not a component address",
                          std::string("write ") + address_shape(c.kind));
      return e;
    }
    c.layer = {ast::AddressPart::Kind::Number, std::strtoll(text.substr(0, dot).c_str(), nullptr, 10), "",
               make_span(source_, span.begin, span.begin + static_cast<uint32_t>(dot))};
    c.index = {ast::AddressPart::Kind::Number, std::strtoll(text.substr(dot + 1).c_str(), nullptr, 10), "",
               make_span(source_, span.begin + static_cast<uint32_t>(dot) + 1, span.end)};
    if (text.size() - dot - 1 > 9) c.index.number = 999999999;
    if (dot > 9) c.layer.number = 999999999;
  } else {
    auto parts = address->addressPart();
    c.layer = transform_address_part(parts[0]);
    if (parts.size() > 1) c.index = transform_address_part(parts[1]);
  }

  bool two_parts = c.index.kind != ast::AddressPart::Kind::None;
  bool wants_two = c.kind == ComponentKind::Head || c.kind == ComponentKind::KvHead ||
                   c.kind == ComponentKind::Neuron;
  bool ok = true;
  if (c.kind == ComponentKind::Heads) {
    ok = two_parts || c.layer.kind == ast::AddressPart::Kind::All;
  } else if (wants_two) {
    ok = two_parts && c.layer.kind != ast::AddressPart::Kind::All && c.index.kind != ast::AddressPart::Kind::All;
  } else {
    ok = !two_parts;
  }
  if (!ok) {
    std::string hint = std::string("write ") + address_shape(c.kind);
    if (c.kind == ComponentKind::Head && two_parts) hint = "for every head of a layer write heads LAYER.*";
    // `head 96`: the dot is probably missing.
    std::string digits = address->getText();
    if (wants_two && !two_parts && digits.size() >= 2 && digits.find_first_not_of("0123456789") == std::string::npos)
      hint = std::string("did you mean ") + ast::component_keyword(c.kind) + " " + digits.substr(0, digits.size() - 1) +
             "." + digits.back() + "?";
    diagnostics_.report("E005", span_of(address),
                        "'" + address->getText() + "' is not a " + ast::component_keyword(c.kind) + " address",
                        hint);
    c.layer = {};  // reported; later stages skip the address
    c.index = {};
  }
  return e;
}

ast::Position Transformer::transform_position(P::PositionContext* ctx) {
  ast::Position position;
  position.span = span_of(ctx);
  if (ctx->INT()) {
    position.kind = ast::Position::Kind::Index;
    position.index = std::strtoll(ctx->INT()->getText().c_str(), nullptr, 10);
    if (ctx->INT()->getText().size() > 9) position.index = 999999999;
    if (ctx->getText()[0] == '-') position.index = -position.index;
  } else if (ctx->STRING()) {
    position.kind = ast::Position::Kind::Token;
    position.text = transform_string(ctx->STRING());
  } else {
    position.kind = ast::Position::Kind::Slot;
    position.text = ctx->ID()->getText();
  }
  return position;
}

}  // namespace circuit::compiler
