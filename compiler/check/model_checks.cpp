// Checks against the model a file runs on: component ranges (layers, heads, KV heads,
// neurons, MLPs), single-token answers, equal-length template instantiations and clean/corrupt
// pairs, and positions that must exist in every prompt of the task they are used with.
#include <algorithm>
#include <set>

#include "compiler/check/checker.h"
#include "compiler/check/task_checks.h"
#include "compiler/diagnostics/edit_distance.h"

namespace circuit::compiler {
namespace {

using ast::ComponentKind;
using ast::ExprKind;

std::string quote(const std::string& text) { return "'" + text + "'"; }

std::string join_pieces(const std::vector<std::string>& pieces) {
  std::string out;
  for (size_t i = 0; i < pieces.size(); ++i) out += (i ? " + " : "") + quote(pieces[i]);
  return out;
}

// The list of strings an expression denotes: a list literal, or a let bound to one.
const ast::Expr* string_list(const ast::Expr* e, const Resolution& resolution) {
  for (int hops = 0; e && hops < 16; ++hops) {
    if (e->kind == ExprKind::List) return e;
    if (e->kind != ExprKind::Name) return nullptr;
    auto it = resolution.names.find(e);
    if (it == resolution.names.end() || it->second.kind != Symbol::Kind::Decl ||
        it->second.decl->kind != ast::DeclKind::Let)
      return nullptr;
    e = it->second.decl->value.get();
  }
  return nullptr;
}

class ModelChecker {
 public:
  ModelChecker(const Program& program, const Resolution& resolution, const TypeTable& types, const ModelInfo& model,
               Diagnostics& diagnostics)
      : program_(program), resolution_(resolution), types_(types), model_(model), c_(model.config), diagnostics_(diagnostics) {}

  void run() {
    for (const auto& module : program_.modules) {
      if (module.get() != program_.main() && declares_model(*module)) continue;
      for (const auto& decl : module->file.decls) {
        visit_decl(decl);
        if (decl.kind == ast::DeclKind::Task && model_.pieces) check_task_tokens(decl);
      }
    }
  }

 private:
  static bool declares_model(const Module& module) {
    for (const auto& decl : module.file.decls)
      if (decl.kind == ast::DeclKind::Model) return true;
    return false;
  }

  void visit_decl(const ast::Decl& decl) {
    visit(decl.value.get());
    visit(decl.bound.get());
    for (const auto& item : decl.body) visit(item.get());
    for (const auto& property : decl.properties) visit(property.value.get());
  }

  void visit(const ast::Expr* e) {
    if (e == nullptr) return;
    if (e->kind == ExprKind::Component) check_component(e->component);
    if (e->kind == ExprKind::Call) check_call_positions(e);
    for (const auto& item : e->items) visit(item.get());
  }

  // --- ranges ---------------------------------------------------------------------------

  void check_component(const ast::Component& c) {
    if (c.kind == ComponentKind::Embed || c.kind == ComponentKind::Logits) return;
    const std::string& name = model_.name;
    if (c.layer.kind == ast::AddressPart::Kind::Number && c.layer.number >= c_.n_layers) {
      diagnostics_.report("E012", c.layer.span, "layer " + std::to_string(c.layer.number) + " is out of range",
                          name + " has " + std::to_string(c_.n_layers) + " layers (0.." +
                              std::to_string(c_.n_layers - 1) + ")");
      return;
    }
    bool has_mlp = c_.mlp != formats::MlpKind::None && c_.d_mlp > 0;
    if ((c.kind == ComponentKind::Mlp || c.kind == ComponentKind::Neuron) && !has_mlp) {
      diagnostics_.report("E017", c.layer.span.to(c.index.span),
                          name + " has no MLPs", "it is attention-only: use heads, attn or resid");
      return;
    }
    if (c.kind == ComponentKind::Resid && c.point == ast::ResidPoint::Mid && (!has_mlp || c_.parallel_residual)) {
      diagnostics_.report("E017", c.layer.span, name + " has no residual stream between attention and MLP",
                          "use resid LAYER pre or resid LAYER post");
      return;
    }
    if (c.index.kind != ast::AddressPart::Kind::Number) return;
    auto out_of_range = [&](const char* code, const char* what, int count, const char* per) {
      if (c.index.number < count) return;
      std::string address = (c.layer.kind == ast::AddressPart::Kind::Number ? std::to_string(c.layer.number) : "*") +
                            "." + std::to_string(c.index.number);
      diagnostics_.report(code, c.index.span, std::string(what) + " " + address + " is out of range",
                          name + " has " + std::to_string(count) + " " + per + " (0.." + std::to_string(count - 1) + ")");
    };
    switch (c.kind) {
      case ComponentKind::Head:
      case ComponentKind::Heads: out_of_range("E013", "head", c_.n_heads, "heads per layer"); break;
      case ComponentKind::KvHead: out_of_range("E014", "kv_head", c_.n_kv_heads, "key/value heads per layer"); break;
      case ComponentKind::Neuron: out_of_range("E015", "neuron", c_.d_mlp, "MLP neurons per layer"); break;
      default: break;
    }
  }

  // --- tokens -----------------------------------------------------------------------------

  std::vector<std::string> pieces(const std::string& text) { return model_.pieces(text); }

  void single_token(const ast::Expr* item) {
    if (item->kind != ExprKind::String) return;
    auto p = pieces(item->text);
    if (p.size() == 1) return;
    std::string message = quote(item->text) + " is " + std::to_string(p.size()) + " tokens in " + model_.name +
                          (p.empty() ? "" : ": " + join_pieces(p));
    std::string hint = "an answer must be a single token";
    if (!item->text.empty() && item->text[0] != ' ' && pieces(" " + item->text).size() == 1)
      hint = quote(" " + item->text) + " (with a leading space) is one token";
    diagnostics_.report("E042", item->span, message, hint);
  }

  void single_tokens(const ast::Expr* list) {
    if (const ast::Expr* l = string_list(list, resolution_))
      for (const auto& item : l->items) single_token(item.get());
    else if (list && list->kind == ExprKind::String)
      single_token(list);
  }

  struct Slots {
    std::vector<std::string> names;
    std::vector<const ast::Expr*> lists;  // string list per slot; null when it copies another slot
    std::vector<std::string> copies;      // the slot it copies, or ""
  };

  Slots slots_of(const ast::Decl& task) {
    Slots slots;
    const ast::Property* p = task_property(task, "slots");
    if (!p || p->value->kind != ExprKind::Record) return slots;
    for (size_t i = 0; i < p->value->labels.size(); ++i) {
      const ast::Expr* value = p->value->items[i].get();
      slots.names.push_back(p->value->labels[i]);
      slots.lists.push_back(string_list(value, resolution_));
      slots.copies.push_back(types_.of(value) == Type::Slot ? value->text : "");
    }
    return slots;
  }

  // The text of a template with every slot at the first value of its list, except `slot`.
  std::string fill(const std::string& tmpl, const Slots& slots, const std::string& slot, const std::string& value) {
    std::string out;
    for (size_t i = 0; i < tmpl.size(); ++i) {
      if (tmpl[i] != '{') {
        out += tmpl[i];
        continue;
      }
      size_t close = tmpl.find('}', i);
      if (close == std::string::npos) {
        out += tmpl.substr(i);
        break;
      }
      std::string name = tmpl.substr(i + 1, close - i - 1);
      i = close;
      for (size_t k = 0; k < slots.names.size(); ++k) {
        if (slots.names[k] != name) continue;
        std::string source = slots.copies[k].empty() ? name : slots.copies[k];
        if (source == slot) {
          out += value;
        } else {
          for (size_t m = 0; m < slots.names.size(); ++m)
            if (slots.names[m] == source && slots.lists[m] && !slots.lists[m]->items.empty())
              out += slots.lists[m]->items[0]->text;
        }
      }
    }
    return out;
  }

  void check_task_tokens(const ast::Decl& task) {
    if (const ast::Property* p = task_property(task, "answers")) single_tokens(p->value.get());
    if (const ast::Property* p = task_property(task, "wrong"); p && types_.of(p->value.get()) != Type::Slot)
      single_tokens(p->value.get());
    if (const ast::Property* p = task_property(task, "answer"); p && types_.of(p->value.get()) == Type::String)
      single_token(p->value.get());

    Slots slots = slots_of(task);
    // Slots that are answers must hold single tokens.
    for (const char* name : {"answer", "wrong"}) {
      const ast::Property* p = task_property(task, name);
      if (!p || types_.of(p->value.get()) != Type::Slot) continue;
      std::string slot = p->value->text;
      for (size_t k = 0; k < slots.names.size(); ++k) {
        if (slots.names[k] != slot) continue;
        if (!slots.copies[k].empty()) slot = slots.copies[k];
      }
      for (size_t k = 0; k < slots.names.size(); ++k)
        if (slots.names[k] == slot && slots.lists[k]) single_tokens(slots.lists[k]);
    }

    // Every instantiation of the template (and of the corrupt template) has one length.
    const ast::Property* tmpl = task_property(task, "template");
    const ast::Property* corrupt = task_property(task, "corrupt");
    if (tmpl && tmpl->value->kind == ExprKind::String) {
      int clean_length = template_lengths(tmpl->value->text, slots);
      if (corrupt && corrupt->value->kind == ExprKind::String) {
        int corrupt_length = template_lengths(corrupt->value->text, slots);
        if (clean_length >= 0 && corrupt_length >= 0 && clean_length != corrupt_length)
          diagnostics_.report("E043", corrupt->value->span,
                              "the corrupt template is " + std::to_string(corrupt_length) + " tokens, the template " +
                                  std::to_string(clean_length),
                              "clean and corrupt prompts must line up token for token");
      }
    }
    // Prompt pairs line up too.
    const ast::Property* prompts = task_property(task, "prompts");
    if (prompts && corrupt) {
      const ast::Expr* a = string_list(prompts->value.get(), resolution_);
      const ast::Expr* b = string_list(corrupt->value.get(), resolution_);
      if (a && b && a->items.size() == b->items.size())
        for (size_t i = 0; i < a->items.size(); ++i) {
          size_t la = pieces(a->items[i]->text).size(), lb = pieces(b->items[i]->text).size();
          if (la != lb)
            diagnostics_.report("E043", b->items[i]->span,
                                "corrupt prompt " + std::to_string(i + 1) + " is " + std::to_string(lb) +
                                    " tokens, its clean prompt " + std::to_string(la),
                                "clean and corrupt prompts must line up token for token");
        }
    }
  }

  // The token count every instantiation of `tmpl` shares, or -1 after reporting E043.
  int template_lengths(const std::string& tmpl, const Slots& slots) {
    int length = static_cast<int>(pieces(fill(tmpl, slots, "", "")).size());
    for (size_t k = 0; k < slots.names.size(); ++k) {
      if (!slots.lists[k] || slots.lists[k]->items.empty()) continue;
      std::string first = slots.lists[k]->items[0]->text;
      for (const auto& item : slots.lists[k]->items) {
        if (item->kind != ExprKind::String) continue;
        int n = static_cast<int>(pieces(fill(tmpl, slots, slots.names[k], item->text)).size());
        if (n == length) continue;
        auto p = pieces(item->text);
        diagnostics_.report("E043", item->span,
                            "template instantiations differ in length: " + quote(item->text) + " makes " +
                                std::to_string(n) + " tokens, " + quote(first) + " makes " + std::to_string(length),
                            quote(item->text) + " is " + std::to_string(p.size()) + " tokens in " + model_.name +
                                ": " + join_pieces(p));
        return -1;
      }
    }
    return length;
  }

  // --- positions --------------------------------------------------------------------------

  // Positions used by a call's graph arguments (through lets and circuits), checked against
  // the call's task.
  void check_call_positions(const ast::Expr* call) {
    auto it = types_.call_args.find(call);
    if (it == types_.call_args.end()) return;
    const ast::Decl* task = nullptr;
    for (const ast::Expr* arg : it->second)
      if (arg && types_.of(arg) == Type::Task) task = task_decl(arg);
    if (task == nullptr) return;
    std::vector<const ast::Position*> positions;
    std::set<const ast::Decl*> visited;
    for (const ast::Expr* arg : it->second)
      if (arg && types_.of(arg) != Type::Task) collect_positions(arg, positions, visited);
    for (const ast::Position* position : positions) check_position(*position, *task);
  }

  const ast::Decl* task_decl(const ast::Expr* e) {
    auto it = resolution_.names.find(e);
    if (it == resolution_.names.end() || it->second.kind != Symbol::Kind::Decl) return nullptr;
    return it->second.decl->kind == ast::DeclKind::Task ? it->second.decl : nullptr;
  }

  void collect_positions(const ast::Expr* e, std::vector<const ast::Position*>& out, std::set<const ast::Decl*>& visited) {
    if (e == nullptr) return;
    if (e->kind == ExprKind::At) out.push_back(&e->position);
    if (e->kind == ExprKind::Name || e->kind == ExprKind::Call) {
      auto it = resolution_.names.find(e);
      if (it != resolution_.names.end() && it->second.kind == Symbol::Kind::Decl && visited.insert(it->second.decl).second) {
        const ast::Decl* d = it->second.decl;
        if (d->kind == ast::DeclKind::Let || d->kind == ast::DeclKind::Circuit) {
          collect_positions(d->value.get(), out, visited);
          for (const auto& item : d->body) collect_positions(item.get(), out, visited);
        }
      }
    }
    for (const auto& item : e->items) collect_positions(item.get(), out, visited);
  }

  void check_position(const ast::Position& position, const ast::Decl& task) {
    const ast::Property* tmpl = task_property(task, "template");
    if (position.kind == ast::Position::Kind::Slot) {
      std::vector<std::string> slots;
      if (tmpl && tmpl->value->kind == ExprKind::String) slots = template_slots(tmpl->value->text);
      if (std::find(slots.begin(), slots.end(), position.text) == slots.end())
        diagnostics_.report("E039", position.span,
                            "task '" + task.name + "' has no template slot '" + position.text + "'",
                            slots.empty() ? "slot positions need a task with a template" : did_you_mean(position.text, slots));
      return;
    }
    if (!model_.pieces) return;
    std::vector<std::vector<std::string>> prompts = prompt_pieces(task);
    if (prompts.empty()) return;
    if (position.kind == ast::Position::Kind::Index) {
      size_t shortest = SIZE_MAX;
      for (const auto& p : prompts) shortest = std::min(shortest, p.size());
      long long index = position.index;
      bool ok = index >= 0 ? index < static_cast<long long>(shortest) : -index <= static_cast<long long>(shortest);
      if (!ok)
        diagnostics_.report("E045", position.span, "position " + std::to_string(index) + " is past the end of a prompt",
                            "the shortest prompt of task '" + task.name + "' is " + std::to_string(shortest) + " tokens");
      return;
    }
    if (task_property(task, "random_tokens")) {
      diagnostics_.report("E044", position.span,
                          "task '" + task.name + "' draws random tokens; no token is in every prompt",
                          "use an index position such as @ -1");
      return;
    }
    for (size_t i = 0; i < prompts.size(); ++i) {
      bool found = false;
      for (const auto& piece : prompts[i]) found |= piece == position.text || piece == " " + position.text;
      if (found) continue;
      diagnostics_.report("E044", position.span,
                          "token " + quote(position.text) + " is not in prompt " + std::to_string(i + 1) + " of task '" +
                              task.name + "'",
                          "a token position must exist in every prompt; the prompt's tokens are " +
                              join_pieces(prompts[i]));
      return;
    }
  }

  // Tokens of each prompt a task shows (a template: its first instantiation).
  std::vector<std::vector<std::string>> prompt_pieces(const ast::Decl& task) {
    std::vector<std::vector<std::string>> out;
    if (const ast::Property* p = task_property(task, "prompts")) {
      if (const ast::Expr* list = string_list(p->value.get(), resolution_))
        for (const auto& item : list->items) out.push_back(pieces(item->text));
    } else if (const ast::Property* t = task_property(task, "template"); t && t->value->kind == ExprKind::String) {
      out.push_back(pieces(fill(t->value->text, slots_of(task), "", "")));
    } else if (const ast::Property* r = task_property(task, "random_tokens"); r && r->value->kind == ExprKind::Number) {
      // Only the length matters for index positions: the sequence, then all but its last token.
      size_t n = static_cast<size_t>(std::max(2.0, r->value->number));
      out.push_back(std::vector<std::string>(2 * n - 1 + (model_.bos_id >= 0 ? 1 : 0)));
    }
    return out;
  }

  const Program& program_;
  const Resolution& resolution_;
  const TypeTable& types_;
  const ModelInfo& model_;
  const formats::ModelConfig& c_;
  Diagnostics& diagnostics_;
};

}  // namespace

void check_against_model(const Program& program, const Resolution& resolution, const TypeTable& types,
                         const ModelInfo& model, Diagnostics& diagnostics) {
  ModelChecker(program, resolution, types, model, diagnostics).run();
}

std::string model_name_of(const Program& program, const std::string& override_name, Span* where,
                          Diagnostics& diagnostics) {
  std::string name;
  const Module* main = program.main();
  if (main != nullptr)
    for (const auto& decl : main->file.decls) {
      if (decl.kind != ast::DeclKind::Model) continue;
      if (!name.empty()) {
        diagnostics.report("E047", decl.span, "a file runs on one model; this is a second model declaration");
        continue;
      }
      name = decl.name;
      if (where) *where = decl.name_span;
    }
  if (!override_name.empty()) {
    if (where) *where = Span{};
    return override_name;
  }
  return name;
}

}  // namespace circuit::compiler
