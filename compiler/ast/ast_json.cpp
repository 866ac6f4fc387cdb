// AST -> JSON.
#include "compiler/ast/ast_json.h"

#include <nlohmann/json.hpp>

namespace circuit::compiler::ast {
namespace {

std::string at(const Span& span) { return std::to_string(span.line) + ":" + std::to_string(span.col); }

const char* kind_name(ExprKind kind) {
  static const char* names[] = {"name", "string", "number", "bool", "range", "list", "record", "call", "component",
                                "member", "at", "difference", "intersect", "union", "where", "path", "on"};
  return names[static_cast<int>(kind)];
}

const char* decl_name(DeclKind kind) {
  static const char* names[] = {"model", "use", "use_registry", "let", "circuit", "task", "expect"};
  return names[static_cast<int>(kind)];
}

nlohmann::json part_json(const AddressPart& part) {
  switch (part.kind) {
    case AddressPart::Kind::Number: return part.number;
    case AddressPart::Kind::Name: return part.name;
    case AddressPart::Kind::All: return "*";
    case AddressPart::Kind::None: return nullptr;
  }
  return nullptr;
}

}  // namespace

nlohmann::json to_json(const Expr& e) {
  nlohmann::json j{{"kind", kind_name(e.kind)}, {"at", at(e.span)}};
  switch (e.kind) {
    case ExprKind::Name:
    case ExprKind::String: j["value"] = e.text; break;
    case ExprKind::Number: j["value"] = e.number; break;
    case ExprKind::Bool: j["value"] = e.boolean; break;
    case ExprKind::Range: j["begin"] = e.range_begin; j["end"] = e.range_end; break;
    case ExprKind::Call: j["callee"] = e.text; break;
    case ExprKind::Member: j["member"] = e.text; break;
    case ExprKind::Where: j["comparator"] = comparator_text(e.comparator); break;
    case ExprKind::Component: {
      const Component& c = e.component;
      j["component"] = component_keyword(c.kind);
      if (c.layer.kind != AddressPart::Kind::None) j["layer"] = part_json(c.layer);
      if (c.index.kind != AddressPart::Kind::None) j["index"] = part_json(c.index);
      if (c.point != ResidPoint::None) j["point"] = resid_point_name(c.point);
      break;
    }
    case ExprKind::At: {
      const Position& p = e.position;
      j["position"] = p.kind == Position::Kind::Index ? nlohmann::json{{"index", p.index}}
                      : p.kind == Position::Kind::Token ? nlohmann::json{{"token", p.text}}
                                                        : nlohmann::json{{"slot", p.text}};
      break;
    }
    default: break;
  }
  if (!e.items.empty()) {
    nlohmann::json items = nlohmann::json::array();
    for (size_t i = 0; i < e.items.size(); ++i) {
      nlohmann::json item = to_json(*e.items[i]);
      if (i < e.labels.size() && !e.labels[i].empty()) item["label"] = e.labels[i];
      items.push_back(item);
    }
    j["items"] = items;
  }
  return j;
}

nlohmann::json to_json(const File& file) {
  nlohmann::json decls = nlohmann::json::array();
  for (const auto& d : file.decls) {
    nlohmann::json j{{"kind", decl_name(d.kind)}, {"at", at(d.span)}};
    if (!d.name.empty()) j["name"] = d.name;
    if (!d.docs.empty()) j["docs"] = d.docs;
    if (!d.version.empty()) j["version"] = d.version;
    if (d.has_params) {
      j["params"] = nlohmann::json::array();
      for (const auto& p : d.params) j["params"].push_back({{"name", p.name}, {"type", p.type}});
    }
    if (d.value) j["value"] = to_json(*d.value);
    if (d.has_body) {
      j["body"] = nlohmann::json::array();
      for (const auto& item : d.body) j["body"].push_back(to_json(*item));
    }
    if (d.kind == DeclKind::Task) {
      j["properties"] = nlohmann::json::object();
      for (const auto& p : d.properties) j["properties"][p.name] = to_json(*p.value);
    }
    if (d.kind == DeclKind::Expect) {
      j["comparator"] = comparator_text(d.comparator);
      j["bound"] = to_json(*d.bound);
    }
    decls.push_back(j);
  }
  return nlohmann::json{{"file", file.source ? file.source->path : ""}, {"decls", decls}};
}

}  // namespace circuit::compiler::ast
