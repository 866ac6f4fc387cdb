// Scopes: a module sees its own let/circuit/task declarations, then those of the files it
// uses, then the built-ins. A circuit body also sees its parameters; a task's answer, wrong and
// slots properties also see its template slots.
#include "compiler/resolve/names.h"

#include <map>
#include <set>

#include "compiler/diagnostics/edit_distance.h"

namespace circuit::compiler {
namespace {

bool declares_name(const ast::Decl& d) {
  return d.kind == ast::DeclKind::Let || d.kind == ast::DeclKind::Circuit || d.kind == ast::DeclKind::Task;
}

const char* decl_word(const ast::Decl& d) {
  switch (d.kind) {
    case ast::DeclKind::Let: return "let";
    case ast::DeclKind::Circuit: return "circuit";
    case ast::DeclKind::Task: return "task";
    default: return "declaration";
  }
}

class Resolver {
 public:
  Resolver(const Program& program, Diagnostics& diagnostics) : program_(program), diagnostics_(diagnostics) {}

  Resolution run() {
    for (const auto& module : program_.modules) build_scope(*module);
    for (const auto& module : program_.modules) resolve_module(*module);
    report_unused();
    return std::move(resolution_);
  }

 private:
  using Table = std::map<std::string, Symbol>;

  void build_scope(const Module& module) {
    Table& own = own_[&module];
    for (const auto& decl : module.file.decls) {
      if (!declares_name(decl)) continue;
      if (auto it = own.find(decl.name); it != own.end()) {
        auto& d = diagnostics_.report("E011", decl.name_span, "'" + decl.name + "' is already defined");
        d.notes.push_back({it->second.decl->name_span, "first defined here"});
        continue;
      }
      if (find_builtin(decl.name))
        diagnostics_.report("W002", decl.name_span,
                            std::string(decl_word(decl)) + " '" + decl.name + "' shadows the built-in function",
                            "rename it to keep using the built-in");
      own[decl.name] = Symbol{Symbol::Kind::Decl, &decl, &module, nullptr, nullptr, decl.name};
    }
  }

  // The module's own names, then its imports' names (a local name shadowing an import warns).
  const Symbol* lookup_global(const Module& module, const std::string& name) {
    auto& own = own_[&module];
    if (auto it = own.find(name); it != own.end()) return &it->second;
    for (const Module* imported : module.imports) {
      if (imported == nullptr) continue;
      auto& theirs = own_[imported];
      if (auto it = theirs.find(name); it != theirs.end()) return &it->second;
    }
    return nullptr;
  }

  std::vector<std::string> visible_names(const Module& module) {
    std::vector<std::string> names;
    for (const auto& [name, _] : own_[&module]) names.push_back(name);
    for (const Module* imported : module.imports)
      if (imported)
        for (const auto& [name, _] : own_[imported]) names.push_back(name);
    for (const auto& [name, _] : locals_) names.push_back(name);
    return names;
  }

  void resolve_module(const Module& module) {
    module_ = &module;
    // Shadowing of imported names by local ones.
    for (const auto& decl : module.file.decls) {
      if (!declares_name(decl)) continue;
      for (size_t i = 0; i < module.imports.size(); ++i) {
        const Module* imported = module.imports[i];
        if (!imported) continue;
        auto& theirs = own_[imported];
        if (auto it = theirs.find(decl.name); it != theirs.end()) {
          auto& d = diagnostics_.report("W002", decl.name_span,
                                        "'" + decl.name + "' shadows the one from " + imported->source->path);
          d.notes.push_back({it->second.decl->name_span, "the imported definition"});
        }
      }
    }
    for (const auto& decl : module.file.decls) resolve_decl(decl);
    module_ = nullptr;
  }

  void resolve_decl(const ast::Decl& decl) {
    locals_.clear();
    switch (decl.kind) {
      case ast::DeclKind::Let: expr(decl.value.get()); break;
      case ast::DeclKind::Circuit:
        for (const auto& param : decl.params) {
          if (locals_.count(param.name))
            diagnostics_.report("E011", param.span, "parameter '" + param.name + "' is already defined");
          locals_[param.name] = Symbol{Symbol::Kind::Param, &decl, module_, &param, nullptr, param.name};
        }
        expr(decl.value.get());
        for (const auto& item : decl.body) expr(item.get());
        break;
      case ast::DeclKind::Task: resolve_task(decl); break;
      case ast::DeclKind::Expect:
        expr(decl.value.get());
        expr(decl.bound.get());
        break;
      default: break;
    }
  }

  void resolve_task(const ast::Decl& decl) {
    // Template slots are the keys of the `slots` record.
    for (const auto& property : decl.properties)
      if (property.name == "slots" && property.value->kind == ast::ExprKind::Record)
        for (const auto& label : property.value->labels)
          locals_[label] = Symbol{Symbol::Kind::Slot, &decl, module_, nullptr, nullptr, label};
    for (const auto& property : decl.properties) {
      bool sees_slots = property.name == "answer" || property.name == "wrong" || property.name == "slots";
      if (sees_slots) {
        expr(property.value.get());
      } else {
        auto saved = std::move(locals_);
        locals_.clear();
        expr(property.value.get());
        locals_ = std::move(saved);
      }
    }
  }

  void bind(const ast::Expr* e, const std::string& name, Span span, bool call) {
    if (auto it = locals_.find(name); it != locals_.end()) {
      resolution_.names[e] = it->second;
      return;
    }
    if (const Symbol* global = lookup_global(*module_, name)) {
      resolution_.names[e] = *global;
      used_.insert(global->decl);
      return;
    }
    if (const Builtin* builtin = find_builtin(name)) {
      resolution_.names[e] = Symbol{Symbol::Kind::Builtin, nullptr, nullptr, nullptr, builtin, name};
      return;
    }
    std::vector<std::string> candidates = visible_names(*module_);
    for (const auto& b : builtin_names()) candidates.push_back(b);
    std::string what = call ? "unknown function '" + name + "'" : "unknown name '" + name + "'";
    diagnostics_.report("E010", span, what, did_you_mean(name, candidates));
  }

  void expr(const ast::Expr* e) {
    if (e == nullptr) return;
    switch (e->kind) {
      case ast::ExprKind::Name: bind(e, e->text, e->span, false); break;
      case ast::ExprKind::Call: bind(e, e->text, e->text_span, true); break;
      case ast::ExprKind::Component: address(e->component.layer); address(e->component.index); break;
      default: break;
    }
    for (const auto& item : e->items) expr(item.get());
  }

  void address(const ast::AddressPart& part) {
    if (part.kind != ast::AddressPart::Kind::Name) return;
    if (auto it = locals_.find(part.name); it != locals_.end()) {
      resolution_.addresses[&part] = it->second;
      return;
    }
    std::vector<std::string> params;
    for (const auto& [name, _] : locals_) params.push_back(name);
    diagnostics_.report("E010", part.span, "unknown name '" + part.name + "' in a component address",
                        params.empty() ? "an address is numbers (head 9.6) or a circuit parameter"
                                       : did_you_mean(part.name, params));
  }

  // Circuits of the main file that nothing uses, in a file that runs (declares a model);
  // library files export their circuits.
  void report_unused() {
    const Module* main = program_.main();
    if (main == nullptr) return;
    bool runs = false;
    for (const auto& decl : main->file.decls) runs |= decl.kind == ast::DeclKind::Model;
    if (!runs) return;
    for (const auto& decl : main->file.decls)
      if (decl.kind == ast::DeclKind::Circuit && !used_.count(&decl))
        diagnostics_.report("W001", decl.name_span, "circuit '" + decl.name + "' is never used",
                            "use it in an expect or an experiment, or remove it");
  }

  const Program& program_;
  Diagnostics& diagnostics_;
  Resolution resolution_;
  std::map<const Module*, Table> own_;
  std::map<std::string, Symbol> locals_;
  std::set<const ast::Decl*> used_;
  const Module* module_ = nullptr;
};

}  // namespace

Resolution resolve_names(const Program& program, Diagnostics& diagnostics) {
  return Resolver(program, diagnostics).run();
}

}  // namespace circuit::compiler
