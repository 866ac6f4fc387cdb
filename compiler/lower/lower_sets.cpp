// Lowering of component sets: components, `@` positions, `.q/.k/.v`, unions, intersections
// and differences become Elements (then hook targets); the selectors `where` and `top()` and
// `count()` read MeasuredValues and are pending until it has their scores. Circuits:
// lower_circuits.cpp.
#include <algorithm>
#include <cmath>
#include <tuple>

#include "compiler/format/formatter.h"
#include "compiler/lower/lowerer.h"

namespace circuit::compiler {

using ast::ExprKind;
using formats::HookKind;
using plan::GraphNode;

namespace {

bool per_head(HookKind k) {
  return k == HookKind::Z || k == HookKind::QInput || k == HookKind::KInput || k == HookKind::VInput;
}

bool same_component(const Element& a, const Element& b) {
  return a.kind == b.kind && a.layer == b.layer && a.index == b.index;
}

bool passes(double value, ast::Comparator op, double threshold) {
  switch (op) {
    case ast::Comparator::Greater: return value > threshold;
    case ast::Comparator::GreaterEqual: return value >= threshold;
    case ast::Comparator::Less: return value < threshold;
    case ast::Comparator::LessEqual: return value <= threshold;
    case ast::Comparator::Equal: return value == threshold;
    case ast::Comparator::NotEqual: return value != threshold;
  }
  return false;
}

// Forward order of a node, for listing selected components canonically.
std::pair<long, int> node_order(const GraphNode& n) {
  switch (n.kind) {
    case GraphNode::Kind::Input: return {0, 0};
    case GraphNode::Kind::Head: return {2L * n.layer + 1, n.head};
    case GraphNode::Kind::Mlp: return {2L * n.layer + 2, 0};
    case GraphNode::Kind::Logits: return {1L << 40, 0};
  }
  return {0, 0};
}

template <typename T>
void add_unique(std::vector<T>& into, const T& item) {
  if (std::find(into.begin(), into.end(), item) == into.end()) into.push_back(item);
}

}  // namespace

std::vector<int> Lowerer::all(int n) const {
  std::vector<int> v(std::max(0, n));
  for (int i = 0; i < n; ++i) v[i] = i;
  return v;
}

const Lowerer::Frame* Lowerer::frame_of(const ast::Param* p) const {
  for (auto it = frames_.rbegin(); it != frames_.rend(); ++it)
    if (it->sets.count(p) || it->ints.count(p) || it->exprs.count(p)) return &*it;
  return nullptr;
}

// ---- sets ------------------------------------------------------------------------------------

bool Lowerer::position(const ast::Position& p, const LoweredTask* t, plan::Positions& positions) {
  if (p.kind == ast::Position::Kind::Index) {
    positions.index = {static_cast<int>(p.index >= 0 ? p.index + t->offset : p.index)};
  } else if (p.kind == ast::Position::Kind::Slot) {
    auto it = t->slot_positions.find(p.text);
    if (it == t->slot_positions.end()) return fail(false, "the task has no slot " + p.text);
    for (int at : it->second) positions.per_row.push_back({at});
  } else {
    for (const auto& row : t->pieces) {
      int at = 0;
      for (size_t k = 0; k < row.size(); ++k)
        if (row[k] == p.text || row[k] == " " + p.text) at = static_cast<int>(k) + t->offset;
      positions.per_row.push_back({at});
    }
  }
  return true;
}

bool Lowerer::elements(const ast::Expr* e, const LoweredTask* t, Elements& out) {
  if (!e) return fail(false, "a set is missing");
  switch (e->kind) {
    case ExprKind::Component: {
      const ast::Component& c = e->component;
      auto part = [&](const ast::AddressPart& a, std::vector<int>& values, int all_count) {
        switch (a.kind) {
          case ast::AddressPart::Kind::Number: values = {static_cast<int>(a.number)}; return true;
          case ast::AddressPart::Kind::All: values = all_count < 0 ? std::vector<int>{-1} : all(all_count); return true;
          case ast::AddressPart::Kind::None: values = {-1}; return true;
          case ast::AddressPart::Kind::Name: {
            auto it = c_.resolution.addresses.find(&a);
            const Frame* f = it == c_.resolution.addresses.end() ? nullptr : frame_of(it->second.param);
            if (!f || !f->ints.count(it->second.param))
              return fail(false, "a component address uses the parameter '" + a.name + "' outside an instantiation");
            values = {static_cast<int>(f->ints.at(it->second.param))};
            return true;
          }
        }
        return false;
      };
      Element base;
      switch (c.kind) {
        case ast::ComponentKind::Head:
        case ast::ComponentKind::Heads: base.kind = HookKind::Z; break;
        case ast::ComponentKind::KvHead: base.kind = HookKind::V; break;
        case ast::ComponentKind::Mlp: base.kind = HookKind::MlpOut; break;
        case ast::ComponentKind::Attn: base.kind = HookKind::AttnOut; break;
        case ast::ComponentKind::Neuron: base.kind = HookKind::MlpPost; break;
        case ast::ComponentKind::Resid:
          base.kind = c.point == ast::ResidPoint::Pre ? HookKind::ResidPre
                      : c.point == ast::ResidPoint::Mid ? HookKind::ResidMid : HookKind::ResidPost;
          break;
        case ast::ComponentKind::Embed: base.kind = HookKind::Embed; out.push_back(base); return true;
        case ast::ComponentKind::Logits: base.kind = HookKind::Logits; out.push_back(base); return true;
      }
      std::vector<int> layers, indices;
      if (!part(c.layer, layers, model_.config.n_layers) || !part(c.index, indices, -1)) return false;
      for (int layer : layers)
        for (int index : indices) {
          Element el = base;
          el.layer = layer;
          el.index = index;
          out.push_back(el);
        }
      return true;
    }
    case ExprKind::Member: {
      size_t first = out.size();
      if (!elements(e->items[0].get(), t, out)) return false;
      HookKind input = e->text == "q" ? HookKind::QInput : e->text == "k" ? HookKind::KInput : HookKind::VInput;
      for (size_t i = first; i < out.size(); ++i) out[i].kind = input;
      return true;
    }
    case ExprKind::At: {
      size_t first = out.size();
      if (!elements(e->items[0].get(), t, out)) return false;
      if (!t) return true;  // circuits and counts: components without positions
      plan::Positions positions;
      if (!position(e->position, t, positions)) return false;
      for (size_t i = first; i < out.size(); ++i) out[i].positions = positions;
      return true;
    }
    case ExprKind::List:
    case ExprKind::Union:
    case ExprKind::Path: {
      // Every item, even after one fails: each lowers the experiments it waits for.
      bool ok = true;
      for (const auto& item : e->items) ok = elements(item.get(), t, out) && ok;
      return ok;
    }
    case ExprKind::Intersect:
    case ExprKind::Difference: {
      Elements a, b;
      bool ok_a = elements(e->items[0].get(), t, a);
      if (!elements(e->items[1].get(), t, b) || !ok_a) return false;
      b = expand(b);
      for (const Element& x : expand(a)) {
        bool in_b = std::any_of(b.begin(), b.end(), [&](const Element& y) { return same_component(x, y); });
        if (in_b == (e->kind == ExprKind::Intersect)) out.push_back(x);
      }
      return true;
    }
    case ExprKind::Where: return where(*e, t, out);
    case ExprKind::Call: {
      const Builtin* b = builtin_call(e);
      if (b && b->name == "top") return top(*e, out);
      return fail(false, "'" + format_expr(*e) + "' is not a set of components");
    }
    case ExprKind::Name: {
      const Symbol* s = symbol(e);
      if (s && s->kind == Symbol::Kind::Param) {
        const Frame* f = frame_of(s->param);
        if (f && f->sets.count(s->param)) {
          const Elements& bound = f->sets.at(s->param);
          out.insert(out.end(), bound.begin(), bound.end());
          return true;
        }
        return fail(false, "the parameter '" + s->name + "' is used outside an instantiation");
      }
      if (s && s->kind == Symbol::Kind::Decl && (s->decl->kind == ast::DeclKind::Let || s->decl->kind == ast::DeclKind::Circuit)) {
        if (s->decl->value) return elements(s->decl->value.get(), t, out);
        bool ok = true;
        for (const auto& item : s->decl->body) ok = elements(item.get(), t, out) && ok;
        return ok;
      }
      break;
    }
    default: break;
  }
  return fail(false, "'" + format_expr(*e) + "' is not a set of components");
}

Elements Lowerer::expand(const Elements& in) const {
  Elements out;
  std::map<std::tuple<int, int, int>, std::vector<size_t>> at;  // component -> its entries in out
  auto push = [&](const Element& el) {
    std::vector<size_t>& same = at[{static_cast<int>(el.kind), el.layer, el.index}];
    for (size_t i : same)
      if (out[i].positions == el.positions) return;
    same.push_back(out.size());
    out.push_back(el);
  };
  for (const Element& el : in) {
    if (el.index >= 0 || el.layer < 0) {
      push(el);
      continue;
    }
    int n = per_head(el.kind) ? model_.config.n_heads
            : el.kind == HookKind::V ? model_.config.n_kv_heads
            : el.kind == HookKind::MlpPost ? model_.config.d_mlp : 0;
    if (n == 0) push(el);
    for (int i = 0; i < n; ++i) {
      Element one = el;
      one.index = i;
      push(one);
    }
  }
  return out;
}

std::vector<Target> Lowerer::to_targets(const Elements& in) const {
  // Group by hook and positions (first seen first), then merge layers with the same selection.
  struct Group {
    HookKind kind;
    int layer;
    plan::Positions positions;
    bool every = false;
    std::vector<int> indices;
  };
  std::vector<Group> groups;
  for (const Element& el : in) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
      return g.kind == el.kind && g.layer == el.layer && g.positions == el.positions;
    });
    if (it == groups.end()) it = groups.insert(groups.end(), Group{el.kind, el.layer, el.positions, false, {}});
    if (el.index < 0) it->every = true;
    else add_unique(it->indices, el.index);
  }
  std::vector<Target> out;
  for (Group& g : groups) {
    if (g.every) g.indices.clear();
    Target t;
    t.kind = g.kind;
    if (g.layer >= 0) t.layers = {g.layer};
    (g.kind == HookKind::MlpPost ? t.select.neurons : t.select.heads) = g.indices;
    t.select.positions = g.positions;
    if (!out.empty() && g.layer >= 0 && out.back().kind == t.kind && !out.back().layers.empty() &&
        out.back().select == t.select) {
      out.back().layers.push_back(g.layer);
      continue;
    }
    out.push_back(t);
  }
  return out;
}

// ---- selectors ---------------------------------------------------------------------------------

std::optional<std::string> Lowerer::experiment_of(const ast::Expr* e, const ast::Expr** call) const {
  for (int hops = 0; e && hops < 64; ++hops) {
    if (const Builtin* b = builtin_call(e)) {
      if (b->group != BuiltinGroup::Experiment && b->group != BuiltinGroup::Detector && b->group != BuiltinGroup::Measure)
        return std::nullopt;
      if (call) *call = e;
      return std::string(b->name) + "." + std::to_string(e->span.line) + "." + std::to_string(e->span.col);
    }
    const Symbol* s = symbol(e);
    if (e->kind != ExprKind::Name || !s || s->kind != Symbol::Kind::Decl || !s->decl->value ||
        (s->decl->kind != ast::DeclKind::Let && s->decl->kind != ast::DeclKind::Circuit))
      return std::nullopt;
    if (builtin_call(s->decl->value.get())) {
      auto inner = experiment_of(s->decl->value.get(), call);
      return inner ? std::optional<std::string>(s->decl->name) : std::nullopt;
    }
    e = s->decl->value.get();
  }
  return std::nullopt;
}

const std::map<std::string, double>* Lowerer::scores(const ast::Expr* e, bool* by_magnitude) {
  const ast::Expr* call = nullptr;
  std::optional<std::string> name = experiment_of(e, &call);
  if (!name) {
    fail(false, "'" + (e ? format_expr(*e) : std::string()) + "' is not a measured score");
    return nullptr;
  }
  if (by_magnitude) *by_magnitude = builtin_call(call)->group != BuiltinGroup::Detector;
  if (auto it = measured_.scores.find(*name); it != measured_.scores.end()) return &it->second;
  if (measured_.done.count(*name)) {
    fail(false, "'" + *name + "' ran but recorded no scores");
    return nullptr;
  }
  if (experiment(*name, *call)) fail(true, "it waits for the scores that '" + *name + "' measures");
  return nullptr;
}

bool Lowerer::where(const ast::Expr& e, const LoweredTask* t, Elements& out) {
  Elements base;
  if (!elements(e.items[0].get(), t, base)) return false;
  std::optional<double> threshold = number(e.items[2].get());
  if (!threshold) return fail(false, "the threshold of where must be a number");
  const std::map<std::string, double>* sc = scores(e.items[1].get());
  if (!sc) return false;
  for (const Element& el : expand(base)) {
    std::string id;
    if (per_head(el.kind) && el.index >= 0) id = plan::graph_node_id({GraphNode::Kind::Head, el.layer, el.index, 0});
    else if (el.kind == HookKind::MlpOut) id = plan::graph_node_id({GraphNode::Kind::Mlp, el.layer, 0, 0});
    else if (el.kind == HookKind::Embed) id = "input";
    else if (el.kind == HookKind::AttnOut) id = "attn" + std::to_string(el.layer);  // sweeps over attn/resid
    else if (el.kind == HookKind::ResidPre || el.kind == HookKind::ResidMid || el.kind == HookKind::ResidPost)
      id = "resid" + std::to_string(el.layer);
    auto it = sc->find(id);
    if (it != sc->end() && passes(it->second, e.comparator, *threshold)) out.push_back(el);
  }
  return true;
}

bool Lowerer::top(const ast::Expr& call, Elements& out) {
  bool by_magnitude = true;
  const std::map<std::string, double>* sc = scores(arg(call, 0), &by_magnitude);
  if (!sc) return false;
  std::optional<double> n = number(arg(call, 1));
  if (!n || *n < 0) return fail(false, "top() needs a count written as a non-negative number");
  std::vector<std::pair<GraphNode, double>> ranked;
  for (const auto& [id, value] : *sc) {
    std::optional<GraphNode> node = plan::parse_graph_node(id);
    if (!node || node->input || node->kind == GraphNode::Kind::Logits || !plan::node_in_range(*node, plan_.model) ||
        !std::isfinite(value))
      continue;
    ranked.push_back({*node, by_magnitude ? std::fabs(value) : value});
  }
  // Best first; ties in forward order, so the choice never depends on the map's spelling order.
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : node_order(a.first) < node_order(b.first);
  });
  if (ranked.size() > static_cast<size_t>(*n)) ranked.resize(static_cast<size_t>(*n));
  std::sort(ranked.begin(), ranked.end(),
            [](const auto& a, const auto& b) { return node_order(a.first) < node_order(b.first); });
  for (const auto& [node, _] : ranked) {
    Element el;
    if (node.kind == GraphNode::Kind::Head) el = {HookKind::Z, node.layer, node.head, {}};
    else if (node.kind == GraphNode::Kind::Mlp) el = {HookKind::MlpOut, node.layer, -1, {}};
    else el = {HookKind::Embed, -1, -1, {}};
    out.push_back(el);
  }
  return true;
}

bool Lowerer::count(const ast::Expr* set, double& out) {
  Elements els;
  if (!elements(set, nullptr, els)) return false;
  Elements distinct;
  for (const Element& el : expand(els))
    if (std::none_of(distinct.begin(), distinct.end(), [&](const Element& d) { return same_component(d, el); }))
      distinct.push_back(el);
  out = static_cast<double>(distinct.size());
  return true;
}

}  // namespace circuit::compiler
