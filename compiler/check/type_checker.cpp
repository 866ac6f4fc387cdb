// Type checking of expressions, calls and declarations (task properties are in
// task_checks.cpp). Every expression gets a Type in the TypeTable; Error stops cascades.
#include <set>

#include "compiler/check/checker.h"
#include "compiler/check/task_checks.h"
#include "compiler/diagnostics/edit_distance.h"

namespace circuit::compiler {
namespace {

using ast::ExprKind;

bool is_head_kind(ast::ComponentKind kind) {
  return kind == ast::ComponentKind::Head || kind == ast::ComponentKind::Heads;
}

class TypeChecker : public ExprTyper {
 public:
  TypeChecker(const Program& program, const Resolution& resolution, Diagnostics& diagnostics)
      : program_(program), resolution_(resolution), diagnostics_(diagnostics) {}

  TypeTable run() {
    for (const auto& module : program_.modules)
      for (const auto& decl : module->file.decls) check_decl(decl);
    return std::move(table_);
  }

  Type type_of(const ast::Expr* e) override {
    if (e == nullptr) return Type::Error;
    if (auto it = table_.types.find(e); it != table_.types.end()) return it->second;
    Type t = compute(e);
    table_.types[e] = t;
    return t;
  }

  void expect_type(const ast::Expr* e, Type wanted, const std::string& what) override {
    Type actual = type_of(e);
    if (accepts(wanted, actual) || (wanted == Type::Interventions && actual == Type::List)) return;
    diagnostics_.report("E030", e->span, what + " must be " + type_name(wanted) + ", found " + type_name(actual));
  }

 private:
  void check_decl(const ast::Decl& decl) {
    switch (decl.kind) {
      case ast::DeclKind::Let: let_type(decl); break;
      case ast::DeclKind::Circuit: check_circuit(decl); break;
      case ast::DeclKind::Task: check_task(decl, *this, diagnostics_); break;
      case ast::DeclKind::Expect: {
        Type left = type_of(decl.value.get());
        if (left != Type::Measurement && left != Type::Error)
          diagnostics_.report("E030", decl.value->span,
                              std::string("expect needs a measurement on its left, found ") + type_name(left),
                              "e.g. expect faithfulness(C on T, metric: logit_diff) >= 0.8");
        expect_type(decl.bound.get(), Type::Float, "the bound of expect");
        break;
      }
      default: break;
    }
  }

  Type let_type(const ast::Decl& decl) {
    if (auto it = decl_types_.find(&decl); it != decl_types_.end()) return it->second;
    if (in_progress_.count(&decl)) {
      diagnostics_.report("E016", decl.name_span, "'" + decl.name + "' is defined in terms of itself");
      return decl_types_[&decl] = Type::Error;
    }
    in_progress_.insert(&decl);
    Type t = type_of(decl.value.get());
    in_progress_.erase(&decl);
    decl_types_[&decl] = t;
    return t;
  }

  void check_circuit(const ast::Decl& decl) {
    if (checked_circuits_.count(&decl)) return;
    checked_circuits_.insert(&decl);
    for (const auto& param : decl.params)
      if (parameter_type(param.type) == Type::Error)
        diagnostics_.report("E031", param.type_span, "unknown parameter type '" + param.type + "'",
                            std::string("parameter types are ") + parameter_type_names());
    auto graph_item = [&](const ast::Expr* e) {
      Type t = type_of(e);
      if (!is_graph(t) && t != Type::Error)
        diagnostics_.report("E030", e->span,
                            std::string("a circuit is made of components, sets and paths, found ") + type_name(t));
    };
    if (decl.value) graph_item(decl.value.get());
    for (const auto& item : decl.body) graph_item(item.get());
  }

  const Symbol* symbol(const ast::Expr* e) {
    auto it = resolution_.names.find(e);
    return it == resolution_.names.end() ? nullptr : &it->second;
  }

  Type name_type(const ast::Expr* e) {
    const Symbol* s = symbol(e);
    if (s == nullptr) return Type::Error;
    switch (s->kind) {
      case Symbol::Kind::Param: return parameter_type(s->param->type);
      case Symbol::Kind::Slot: return Type::Slot;
      case Symbol::Kind::Builtin:
        if (s->builtin->callable_bare()) return Type::Metric;
        diagnostics_.report("E032", e->span, "'" + s->name + "' is a function; call it",
                            "e.g. " + s->name + "(...)");
        return Type::Error;
      case Symbol::Kind::Decl:
        switch (s->decl->kind) {
          case ast::DeclKind::Let: return let_type(*s->decl);
          case ast::DeclKind::Task: return Type::Task;
          case ast::DeclKind::Circuit:
            if (!s->decl->params.empty()) {
              diagnostics_.report("E035", e->span,
                                  "circuit '" + s->name + "' takes " + std::to_string(s->decl->params.size()) +
                                      " parameter(s); instantiate it",
                                  "e.g. " + s->name + "(...)");
              return Type::Error;
            }
            return Type::Circuit;
          default: return Type::Error;
        }
    }
    return Type::Error;
  }

  Type compute(const ast::Expr* e) {
    switch (e->kind) {
      case ExprKind::Name: return name_type(e);
      case ExprKind::String: return Type::String;
      case ExprKind::Number:
        return e->text.find_first_of(".eE") == std::string::npos ? Type::Int : Type::Float;
      case ExprKind::Bool: return Type::Bool;
      case ExprKind::Range:
        if (e->range_end < e->range_begin)
          diagnostics_.report("E030", e->span, "range " + std::to_string(e->range_begin) + ".." +
                                                   std::to_string(e->range_end) + " is empty");
        return Type::Range;
      case ExprKind::List: return list_type(e);
      case ExprKind::Record:
        for (const auto& item : e->items) type_of(item.get());
        return Type::Record;
      case ExprKind::Call: return call_type(e);
      case ExprKind::Component: return component_type(e);
      case ExprKind::Member: {
        const ast::Expr* base = e->items[0].get();
        Type t = type_of(base);
        if (t == Type::Error) return t;
        bool heads = base->kind == ExprKind::Component ? is_head_kind(base->component.kind)
                                                       : (t == Type::Component || t == Type::Set);
        if (!heads) {
          diagnostics_.report("E037", e->text_span, "only attention heads have .q, .k and .v inputs");
          return Type::Error;
        }
        if (e->text != "q" && e->text != "k" && e->text != "v") {
          diagnostics_.report("E037", e->text_span, "'" + e->text + "' is not an input of a head",
                              "a head's inputs are .q (query), .k (key) and .v (value)");
          return Type::Error;
        }
        return t;
      }
      case ExprKind::At: {
        Type t = type_of(e->items[0].get());
        if (t != Type::Component && t != Type::Set && t != Type::Error) {
          diagnostics_.report("E038", e->span, std::string("a position qualifies a component, not ") + type_name(t));
          return Type::Error;
        }
        return t;
      }
      case ExprKind::Difference:
      case ExprKind::Intersect:
      case ExprKind::Union: {
        const char* op = e->kind == ExprKind::Union ? "|" : e->kind == ExprKind::Intersect ? "&" : "-";
        Type a = type_of(e->items[0].get()), b = type_of(e->items[1].get());
        for (auto [t, side] : {std::pair{a, e->items[0].get()}, std::pair{b, e->items[1].get()}})
          if (!is_graph(t) && t != Type::Error) {
            diagnostics_.report("E030", side->span,
                                std::string("'") + op + "' combines components, sets, paths and circuits, not " +
                                    type_name(t));
            return Type::Error;
          }
        return join_graph(a, b);
      }
      case ExprKind::Where: {
        expect_type(e->items[0].get(), Type::Set, "the left side of where");
        expect_type(e->items[1].get(), Type::Scores, "the measure after where");
        expect_type(e->items[2].get(), Type::Float, "the threshold of where");
        return Type::Set;
      }
      case ExprKind::Path: {
        for (size_t i = 0; i < e->items.size(); ++i) {
          const ast::Expr* item = e->items[i].get();
          Type t = type_of(item);
          if (t == Type::Error) continue;
          if (t != Type::Component && t != Type::Set) {
            diagnostics_.report("E030", item->span, std::string("a path joins components, not ") + type_name(t));
          } else if (i == 0 && item->kind == ExprKind::Member) {
            diagnostics_.report("E037", item->text_span,
                                "'." + item->text + "' is where an edge arrives; it cannot start a path",
                                "write the sender first: a -> b." + item->text);
          } else if (i + 1 == e->items.size() || item->kind != ExprKind::Member) {
            continue;
          } else {
            diagnostics_.report("E037", item->text_span,
                                "'." + item->text + "' is a head's input; nothing leaves it",
                                "end the path here and start the next one from the head itself");
          }
        }
        return Type::Path;
      }
      case ExprKind::On: {
        expect_type(e->items[0].get(), Type::Circuit, "the left side of on");
        expect_type(e->items[1].get(), Type::Task, "the right side of on");
        return Type::Scoped;
      }
    }
    return Type::Error;
  }

  Type list_type(const ast::Expr* e) {
    if (e->items.empty()) return Type::List;
    Type first = type_of(e->items[0].get());
    Type joined = first == Type::String ? Type::Strings
                  : first == Type::Intervention ? Type::Interventions
                  : is_graph(first) ? (first == Type::Component || first == Type::Set ? Type::Set : Type::Circuit)
                  : Type::List;
    for (size_t i = 1; i < e->items.size(); ++i) {
      Type t = type_of(e->items[i].get());
      if (t == Type::Error || first == Type::Error) continue;
      bool same = (joined == Type::Strings && t == Type::String) ||
                  (joined == Type::Interventions && t == Type::Intervention) ||
                  ((joined == Type::Set || joined == Type::Circuit) && is_graph(t)) || (joined == Type::List && t == first);
      if (!same) {
        diagnostics_.report("E030", e->items[i]->span,
                            std::string("a list holds one kind of value: this is ") + type_name(t) +
                                ", the first item is " + type_name(first));
        return Type::Error;
      }
      if (joined == Type::Set && (t == Type::Path || t == Type::Circuit)) joined = Type::Circuit;
    }
    return joined;
  }

  Type component_type(const ast::Expr* e) {
    const ast::Component& c = e->component;
    for (const ast::AddressPart* part : {&c.layer, &c.index}) {
      if (part->kind != ast::AddressPart::Kind::Name) continue;
      auto it = resolution_.addresses.find(part);
      if (it == resolution_.addresses.end()) continue;
      if (it->second.kind != Symbol::Kind::Param || parameter_type(it->second.param->type) != Type::Int)
        diagnostics_.report("E030", part->span, "'" + part->name + "' in a component address must be an int parameter");
    }
    bool all = c.kind == ast::ComponentKind::Heads || c.layer.kind == ast::AddressPart::Kind::All ||
               c.index.kind == ast::AddressPart::Kind::All;
    return all ? Type::Set : Type::Component;
  }

  Type call_type(const ast::Expr* e) {
    const Symbol* s = symbol(e);
    for (const auto& item : e->items) type_of(item.get());
    if (s == nullptr) return Type::Error;
    if (s->kind == Symbol::Kind::Builtin) return builtin_call(e, *s->builtin);
    if (s->kind == Symbol::Kind::Decl && s->decl->kind == ast::DeclKind::Circuit) return circuit_call(e, *s->decl);
    diagnostics_.report("E032", e->text_span, "'" + s->name + "' is not a function or a parameterized circuit");
    return Type::Error;
  }

  Type circuit_call(const ast::Expr* e, const ast::Decl& circuit) {
    if (circuit.params.size() != e->items.size()) {
      diagnostics_.report("E035", e->span,
                          "circuit '" + circuit.name + "' takes " + std::to_string(circuit.params.size()) +
                              " parameter(s), given " + std::to_string(e->items.size()));
      return Type::Circuit;
    }
    for (size_t i = 0; i < e->items.size(); ++i) {
      const ast::Param& param = circuit.params[i];
      if (!e->labels[i].empty() && e->labels[i] != param.name)
        diagnostics_.report("E033", e->label_spans[i],
                            "parameter " + std::to_string(i + 1) + " of '" + circuit.name + "' is '" + param.name +
                                "', not '" + e->labels[i] + "'");
      Type wanted = parameter_type(param.type);
      if (wanted != Type::Error) expect_type(e->items[i].get(), wanted, "parameter '" + param.name + "'");
    }
    return Type::Circuit;
  }

  Type builtin_call(const ast::Expr* e, const Builtin& b) {
    std::vector<const ast::Expr*> given(b.params.size(), nullptr);
    std::vector<std::string> names;
    for (const auto& p : b.params) names.emplace_back(p.name);
    size_t next = 0;
    bool unknown_label = false;  // a misspelled argument also looks like a missing one
    for (size_t i = 0; i < e->items.size(); ++i) {
      const ast::Expr* arg = e->items[i].get();
      const std::string& label = e->labels[i];
      if (label.empty()) {
        if (next >= b.params.size()) {
          diagnostics_.report("E033", arg->span,
                              std::string(b.name) + " takes at most " + std::to_string(b.params.size()) + " argument(s)");
          continue;
        }
        // `C on T` fills a circuit parameter and the task parameter after it.
        if (type_of(arg) == Type::Scoped && b.params[next].type == Type::Circuit && next + 1 < b.params.size() &&
            b.params[next + 1].type == Type::Task) {
          given[next] = arg->items[0].get();
          given[next + 1] = arg->items[1].get();
          next += 2;
          continue;
        }
        given[next++] = arg;
        continue;
      }
      size_t index = 0;
      while (index < b.params.size() && b.params[index].name != label) ++index;
      if (index == b.params.size()) {
        std::string hint = did_you_mean(label, names);
        if (hint.empty()) {
          hint = std::string(b.name) + " takes ";
          for (size_t k = 0; k < names.size(); ++k) hint += (k ? ", " : "") + names[k];
        }
        diagnostics_.report("E033", e->label_spans[i],
                            std::string(b.name) + " has no argument '" + label + "'", hint);
        unknown_label = true;
        continue;
      }
      if (given[index] != nullptr) {
        diagnostics_.report("E034", e->label_spans[i], "argument '" + label + "' is given twice");
        continue;
      }
      given[index] = arg;
    }
    for (size_t k = 0; k < b.params.size(); ++k) {
      const BuiltinParam& p = b.params[k];
      if (given[k] == nullptr) {
        if (p.required && !unknown_label)
          diagnostics_.report("E036", e->span,
                              std::string(b.name) + " needs its '" + std::string(p.name) + "' argument",
                              "add " + std::string(p.name) + ": ...");
        continue;
      }
      expect_type(given[k], p.type, "argument '" + std::string(p.name) + "' of " + std::string(b.name));
    }
    table_.call_args[e] = given;
    return b.result;
  }

 private:
  const Program& program_;
  const Resolution& resolution_;
  Diagnostics& diagnostics_;
  TypeTable table_;
  std::unordered_map<const ast::Decl*, Type> decl_types_;
  std::set<const ast::Decl*> in_progress_;
  std::set<const ast::Decl*> checked_circuits_;
};

}  // namespace

TypeTable check_types(const Program& program, const Resolution& resolution, Diagnostics& diagnostics) {
  return TypeChecker(program, resolution, diagnostics).run();
}

}  // namespace circuit::compiler
