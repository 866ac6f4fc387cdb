// Task properties and their agreement: exactly one prompt source (prompts, template or
// random_tokens), every template slot with a vocabulary, answer lists as long as the prompts.
#include "compiler/check/task_checks.h"

#include <map>
#include <set>

#include "compiler/check/checker.h"
#include "compiler/diagnostics/edit_distance.h"

namespace circuit::compiler {
namespace {

struct PropertyRule {
  const char* name;
  std::vector<Type> accepted;
  const char* doc;
};

const std::vector<PropertyRule>& property_rules() {
  static const std::vector<PropertyRule> rules = {
      {"prompts", {Type::Strings}, "a list of prompts"},
      {"template", {Type::String}, "a prompt with {SLOT} holes"},
      {"slots", {Type::Record}, "each slot's vocabulary: { IO: names, S2: S1 }"},
      {"corrupt", {Type::String, Type::Strings}, "the corrupt template, or a corrupt prompt per prompt"},
      {"answers", {Type::Strings}, "the answer of each prompt"},
      {"wrong", {Type::Strings, Type::Slot, Type::String}, "the wrong answer(s) for logit_diff"},
      {"answer", {Type::Slot, Type::String}, "the slot (or text) that is the answer"},
      {"random_tokens", {Type::Int}, "length of a random sequence shown twice (induction)"},
      {"count", {Type::Int}, "how many prompts a template or random_tokens makes"},
      {"seed", {Type::Int}, "seed for filling slots and drawing tokens"},
  };
  return rules;
}

std::string accepted_names(const std::vector<Type>& types) {
  std::string out;
  for (size_t i = 0; i < types.size(); ++i) out += std::string(i ? " or " : "") + type_name(types[i]);
  return out;
}

}  // namespace

const ast::Property* task_property(const ast::Decl& task, const std::string& name) {
  for (const auto& property : task.properties)
    if (property.name == name) return &property;
  return nullptr;
}

std::vector<std::string> template_slots(const std::string& text) {
  std::vector<std::string> slots;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '{') continue;
    size_t close = text.find('}', i);
    if (close == std::string::npos) break;
    slots.push_back(text.substr(i + 1, close - i - 1));
    i = close;
  }
  return slots;
}

void check_task(const ast::Decl& task, ExprTyper& typer, Diagnostics& diagnostics) {
  std::vector<std::string> known;
  for (const auto& rule : property_rules()) known.emplace_back(rule.name);
  std::map<std::string, const ast::Property*> seen;
  for (const auto& property : task.properties) {
    const PropertyRule* rule = nullptr;
    for (const auto& r : property_rules())
      if (property.name == r.name) rule = &r;
    if (rule == nullptr) {
      std::string hint = did_you_mean(property.name, known);
      diagnostics.report("E040", property.name_span, "a task has no property '" + property.name + "'",
                         hint.empty() ? "task properties: prompts, template, slots, corrupt, answers, wrong, answer, "
                                        "random_tokens, count, seed"
                                      : hint);
      continue;
    }
    if (auto [it, fresh] = seen.emplace(property.name, &property); !fresh) {
      auto& d = diagnostics.report("E011", property.name_span, "property '" + property.name + "' is given twice");
      d.notes.push_back({it->second->name_span, "first given here"});
      continue;
    }
    Type t = typer.type_of(property.value.get());
    bool ok = t == Type::Error;
    for (Type a : rule->accepted) ok |= accepts(a, t);
    if (!ok)
      diagnostics.report("E030", property.value->span,
                         "'" + property.name + "' must be " + accepted_names(rule->accepted) + ", found " + type_name(t));
  }

  // count: the lowering makes exactly this many rows, so a value it could not honour is an
  // error here rather than silently clamped there.
  if (const ast::Property* count = task_property(task, "count");
      count && count->value->kind == ast::ExprKind::Number &&
      (count->value->number < kMinTaskCount || count->value->number > kMaxTaskCount))
    diagnostics.report("E048", count->value->span,
                       "count must be between " + std::to_string(kMinTaskCount) + " and " +
                           std::to_string(kMaxTaskCount) + ", found " + count->value->text,
                       "a task makes 1 to " + std::to_string(kMaxTaskCount) +
                           " prompts (one batch); for more, split it into several tasks with different seeds");

  int sources = 0;
  for (const char* source : {"prompts", "template", "random_tokens"}) sources += seen.count(source) ? 1 : 0;
  if (sources != 1) {
    diagnostics.report("E041", task.name_span,
                       sources == 0 ? "task '" + task.name + "' has no prompts"
                                    : "task '" + task.name + "' has more than one source of prompts",
                       "give exactly one of prompts: [...], template: \"...\" or random_tokens: N");
    return;
  }

  // Template slots against the slots record.
  const ast::Property* slots = task_property(task, "slots");
  std::set<std::string> declared;
  if (slots && slots->value->kind == ast::ExprKind::Record) {
    for (size_t i = 0; i < slots->value->labels.size(); ++i) {
      declared.insert(slots->value->labels[i]);
      Type t = typer.type_of(slots->value->items[i].get());
      if (t != Type::Strings && t != Type::Slot && t != Type::Error)
        diagnostics.report("E030", slots->value->items[i]->span,
                           "slot '" + slots->value->labels[i] + "' must be filled from a list of strings or another slot, found " +
                               type_name(t));
    }
  }
  std::set<std::string> used;
  for (const char* name : {"answer", "wrong"})  // an answer slot need not appear in the text
    if (const ast::Property* p = task_property(task, name); p && p->value->kind == ast::ExprKind::Name)
      used.insert(p->value->text);
  for (const char* name : {"template", "corrupt"}) {
    const ast::Property* p = task_property(task, name);
    if (!p || p->value->kind != ast::ExprKind::String) continue;
    for (const auto& slot : template_slots(p->value->text)) {
      used.insert(slot);
      if (!declared.count(slot))
        diagnostics.report("E039", p->value->span, "template slot {" + slot + "} has no vocabulary",
                           "add it to slots: { " + slot + ": [...] }");
    }
  }
  if (slots && slots->value->kind == ast::ExprKind::Record && seen.count("template"))
    for (size_t i = 0; i < slots->value->labels.size(); ++i)
      if (!used.count(slots->value->labels[i]))
        diagnostics.report("E039", slots->value->label_spans[i],
                           "slot '" + slots->value->labels[i] + "' does not appear in the template");
  if (slots && !seen.count("template"))
    diagnostics.report("E039", slots->name_span, "slots fill a template; this task has none");

  // Lists that pair with prompts must be as long as the prompts.
  const ast::Property* prompts = task_property(task, "prompts");
  if (prompts && prompts->value->kind == ast::ExprKind::List) {
    size_t n = prompts->value->items.size();
    for (const char* name : {"answers", "wrong", "corrupt"}) {
      const ast::Property* p = task_property(task, name);
      if (!p || p->value->kind != ast::ExprKind::List || p->value->items.size() == n) continue;
      diagnostics.report("E046", p->value->span,
                         "task '" + task.name + "' has " + std::to_string(n) + " prompts but " +
                             std::to_string(p->value->items.size()) + " " + name,
                         "give one per prompt, in the same order");
    }
  }
  for (const char* name : {"answer", "wrong"}) {
    const ast::Property* p = task_property(task, name);
    if (p && typer.type_of(p->value.get()) == Type::Slot && !seen.count("template"))
      diagnostics.report("E039", p->value->span, "a slot answer needs a template");
  }
}

}  // namespace circuit::compiler
