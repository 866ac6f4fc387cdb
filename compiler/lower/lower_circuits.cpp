// Lowering of circuits: a circuit's paths become edge ids of the model's computational graph
// (every sender node x every receiver node that the forward connects: input < layer l's heads
// < layer l's MLP < layer l+1 ... < logits), lone components become nodes, `|`, `&` and `-`
// combine edge sets, parameterized circuits are instantiated, and a circuit found by
// eap/eap_ig/acdc is read from MeasuredValues (pending until a stage has discovered it).
#include <algorithm>

#include "compiler/format/formatter.h"
#include "compiler/lower/lowerer.h"

namespace circuit::compiler {

using ast::ExprKind;
using formats::HookKind;
using plan::GraphNode;

namespace {

void add_unique(std::vector<GraphNode>& into, const GraphNode& node) {
  if (std::find(into.begin(), into.end(), node) == into.end()) into.push_back(node);
}

}  // namespace

bool Lowerer::graph_nodes(const Elements& in, bool receivers, std::vector<GraphNode>& out) {
  for (const Element& el : expand(in)) {
    switch (el.kind) {
      case HookKind::Z:
      case HookKind::AttnOut:
        for (int h : el.kind == HookKind::Z ? std::vector<int>{el.index} : all(model_.config.n_heads)) {
          if (!receivers) add_unique(out, GraphNode{GraphNode::Kind::Head, el.layer, h, 0});
          else
            for (char input : {'q', 'k', 'v'}) add_unique(out, GraphNode{GraphNode::Kind::Head, el.layer, h, input});
        }
        break;
      case HookKind::QInput:
      case HookKind::KInput:
      case HookKind::VInput: {
        char input = el.kind == HookKind::QInput ? 'q' : el.kind == HookKind::KInput ? 'k' : 'v';
        add_unique(out, GraphNode{GraphNode::Kind::Head, el.layer, el.index, receivers ? input : '\0'});
        break;
      }
      case HookKind::MlpOut: add_unique(out, GraphNode{GraphNode::Kind::Mlp, el.layer, 0, 0}); break;
      case HookKind::Embed: add_unique(out, GraphNode{GraphNode::Kind::Input, 0, 0, 0}); break;
      case HookKind::Logits: add_unique(out, GraphNode{GraphNode::Kind::Logits, 0, 0, 0}); break;
      default:
        return fail(false, "a circuit's graph has heads, MLPs, embed and logits; " +
                               std::string(formats::hook_point_spec(el.kind).pattern) + " is not one of them");
    }
  }
  return true;
}

bool Lowerer::path_edges(const ast::Expr& path, CircuitValue& out) {
  std::vector<Elements> stops(path.items.size());
  bool ok = true;
  for (size_t i = 0; i < path.items.size(); ++i) ok = elements(path.items[i].get(), nullptr, stops[i]) && ok;
  if (!ok) return false;
  for (size_t i = 0; i + 1 < path.items.size(); ++i) {
    std::vector<GraphNode> senders, receivers;
    if (!graph_nodes(stops[i], false, senders) || !graph_nodes(stops[i + 1], true, receivers)) return false;
    for (const GraphNode& s : senders)
      for (const GraphNode& r : receivers)
        if (plan::edge_is_forward(s, r)) out.add_edge(plan::edge_id(s, r));
  }
  return true;
}

bool Lowerer::circuit_body(const ast::Decl& decl, CircuitValue& out) {
  bool ok = true;
  for (const auto& item : decl.body) ok = circuit(item.get(), out) && ok;
  return ok;
}

bool Lowerer::circuit(const ast::Expr* e, CircuitValue& out) {
  if (!e) return fail(false, "a circuit is missing");
  auto discovered = [&](const std::string& name, const ast::Expr& call) {
    if (auto it = measured_.circuits.find(name); it != measured_.circuits.end()) {
      for (const std::string& edge : it->second)  // the driver's record is outside input: keep valid edges
        if (auto parsed = plan::parse_edge_id(edge); parsed && plan::node_in_range(parsed->sender, plan_.model) &&
                                                      plan::node_in_range(parsed->receiver, plan_.model) &&
                                                      plan::edge_is_forward(parsed->sender, parsed->receiver))
          out.add_edge(plan::edge_id(parsed->sender, parsed->receiver));
      return true;
    }
    if (measured_.done.count(name)) return fail(false, "'" + name + "' ran but recorded no circuit");
    if (experiment(name, call)) fail(true, "it waits for the circuit that '" + name + "' discovers");
    return false;
  };
  auto combine = [&](bool keep_common) {
    CircuitValue a, b;
    bool ok_a = circuit(e->items[0].get(), a);
    if (!circuit(e->items[1].get(), b) || !ok_a) return false;
    for (const std::string& x : a.edges)
      if (b.seen.count(x) == static_cast<size_t>(keep_common)) out.add_edge(x);
    for (const std::string& x : a.nodes)
      if (b.seen.count(x) == static_cast<size_t>(keep_common)) out.add_node(x);
    return true;
  };
  const Builtin* b = builtin_call(e);
  switch (e->kind) {
    case ExprKind::Call: {
      if (b && (b->name == "eap" || b->name == "eap_ig" || b->name == "acdc")) return discovered(*experiment_of(e), *e);
      if (b) break;  // a set (top()): its components
      const Symbol* s = symbol(e);
      if (!s || s->kind != Symbol::Kind::Decl || s->decl->kind != ast::DeclKind::Circuit)
        return fail(false, quoted(format_expr(*e)) + " is not a circuit");
      const ast::Decl& decl = *s->decl;
      Frame frame;
      for (size_t i = 0; i < decl.params.size() && i < e->items.size(); ++i) {
        const ast::Param* p = &decl.params[i];
        const ast::Expr* value = e->items[i].get();
        if (p->type == "int") {
          std::optional<double> v = number(value);
          if (!v) return fail(false, "parameter '" + p->name + "' needs a number");
          frame.ints[p] = static_cast<long long>(*v);
        } else if (p->type == "head" || p->type == "component" || p->type == "set") {
          if (!elements(value, nullptr, frame.sets[p])) return false;
        } else {
          frame.exprs[p] = value;
        }
      }
      frames_.push_back(std::move(frame));
      bool ok = decl.value ? circuit(decl.value.get(), out) : circuit_body(decl, out);
      frames_.pop_back();
      return ok;
    }
    case ExprKind::Name: {
      const Symbol* s = symbol(e);
      if (s && s->kind == Symbol::Kind::Param) {
        const Frame* f = frame_of(s->param);
        if (f && f->exprs.count(s->param)) return circuit(f->exprs.at(s->param), out);
        break;  // a set parameter: its components
      }
      if (s && s->kind == Symbol::Kind::Decl && (s->decl->kind == ast::DeclKind::Circuit || s->decl->kind == ast::DeclKind::Let)) {
        const ast::Decl& decl = *s->decl;
        const Builtin* found = builtin_call(decl.value.get());
        if (found && (found->name == "eap" || found->name == "eap_ig" || found->name == "acdc"))
          return discovered(decl.name, *decl.value);
        if (decl.value) return circuit(decl.value.get(), out);
        if (decl.kind == ast::DeclKind::Circuit) return circuit_body(decl, out);
      }
      break;
    }
    case ExprKind::Union:
    case ExprKind::List: {
      bool ok = true;
      for (const auto& item : e->items) ok = circuit(item.get(), out) && ok;
      return ok;
    }
    case ExprKind::Intersect: return combine(true);
    case ExprKind::Difference: return combine(false);
    case ExprKind::Path: return path_edges(*e, out);
    case ExprKind::On: return circuit(e->items[0].get(), out);
    default: break;
  }
  Elements els;
  std::vector<GraphNode> nodes;
  if (!elements(e, nullptr, els) || !graph_nodes(els, false, nodes)) return false;
  for (const GraphNode& n : nodes) out.add_node(plan::graph_node_id(n));
  return true;
}

}  // namespace circuit::compiler
