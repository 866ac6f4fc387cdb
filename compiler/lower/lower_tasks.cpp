// Tasks -> token batches. Templates are filled `count` times (default 16) with std::mt19937_64
// seeded by `seed` (default 0); slots drawing from the same list get different values in one
// row while the list has enough words (so IO != S1 in IOI). random_tokens N makes rows
// [BOS] s s[0..N-1) whose answer is s[N-1]: predicting it needs induction.
#include <algorithm>
#include <random>
#include <set>

#include "compiler/check/checker.h"
#include "compiler/check/task_checks.h"
#include "compiler/lower/lowered_task.h"

namespace circuit::compiler {
namespace {

using ast::ExprKind;

const ast::Expr* strings_of(const ast::Expr* e, const Resolution& resolution) {
  for (int hops = 0; e && hops < 16; ++hops) {
    if (e->kind == ExprKind::List) return e;
    auto it = resolution.names.find(e);
    if (e->kind != ExprKind::Name || it == resolution.names.end() || it->second.kind != Symbol::Kind::Decl) return nullptr;
    e = it->second.decl->value.get();
  }
  return nullptr;
}

long long number_property(const ast::Decl& task, const char* name, long long fallback) {
  const ast::Property* p = task_property(task, name);
  return p && p->value->kind == ExprKind::Number ? static_cast<long long>(p->value->number) : fallback;
}

struct Row {
  std::string text;
  std::map<std::string, std::string> values;           // slot -> word
  std::map<std::string, size_t> slot_end;              // slot -> byte offset after it
};

Row fill(const std::string& tmpl, const std::map<std::string, std::string>& values) {
  Row row;
  row.values = values;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    size_t close = tmpl[i] == '{' ? tmpl.find('}', i) : std::string::npos;
    if (close == std::string::npos) {
      row.text += tmpl[i];
      continue;
    }
    std::string slot = tmpl.substr(i + 1, close - i - 1);
    auto it = values.find(slot);
    row.text += it == values.end() ? "" : it->second;
    row.slot_end[slot] = row.text.size();
    i = close;
  }
  return row;
}

int32_t first_id(const ModelInfo& model, const std::string& text) {
  auto ids = model.encode(text);
  return ids.empty() ? 0 : ids[0];
}

}  // namespace

namespace {

// Ids random_tokens draws from: above the special ids, and, when the tokenizer is known, only
// tokens whose text is printable (no control bytes, no invalid UTF-8), the kind of text a model
// saw in training; control-byte tokens would measure the model off its distribution.
std::vector<int32_t> random_token_candidates(const ModelInfo& model) {
  const int low = std::max({model.config.bos_token_id, model.config.eos_token_id, model.config.pad_token_id, model.bos_id}) + 1;
  const int high = std::max(low + 1, model.config.d_vocab);
  std::vector<int32_t> all, printable;
  for (int id = low; id < high; ++id) {
    all.push_back(id);
    if (!model.token_text) continue;
    const std::string text = model.token_text(id);
    bool ok = !text.empty() && text.find("\xEF\xBF\xBD") == std::string::npos;
    for (unsigned char ch : text) ok = ok && ch >= 0x20 && ch != 0x7f;
    if (ok) printable.push_back(id);
  }
  return printable.empty() ? all : printable;
}

}  // namespace

LoweredTask lower_task(const ast::Decl& task, const Resolution& resolution, const ModelInfo& model,
                       plan::HookPlan& plan) {
  LoweredTask out;
  out.offset = model.bos_id >= 0 ? 1 : 0;
  auto ids_of = [&](const std::string& text) {
    std::vector<int32_t> ids;
    if (model.bos_id >= 0) ids.push_back(model.bos_id);
    for (int id : model.encode(text)) ids.push_back(id);
    return ids;
  };
  plan::TokenBatch clean{task.name, {}, plan::PadSide::Right, false};
  plan::TokenBatch corrupt{task.name + ".corrupt", {}, plan::PadSide::Right, false};
  std::mt19937_64 rng(static_cast<uint64_t>(number_property(task, "seed", 0)));
  // The checker refuses a count out of range (E048); the clamp only guards the batch.
  long long count = std::clamp<long long>(number_property(task, "count", 16), kMinTaskCount, kMaxTaskCount);

  if (const ast::Property* p = task_property(task, "prompts")) {
    if (const ast::Expr* list = strings_of(p->value.get(), resolution))
      for (const auto& item : list->items) {
        clean.rows.push_back(ids_of(item->text));
        out.pieces.push_back(model.pieces(item->text));
      }
    if (const ast::Property* a = task_property(task, "answers"))
      if (const ast::Expr* list = strings_of(a->value.get(), resolution))
        for (const auto& item : list->items) out.answers.push_back(first_id(model, item->text));
    if (const ast::Property* w = task_property(task, "wrong"))
      if (const ast::Expr* list = strings_of(w->value.get(), resolution))
        for (const auto& item : list->items) out.wrong.push_back(first_id(model, item->text));
    if (const ast::Property* c = task_property(task, "corrupt"))
      if (const ast::Expr* list = strings_of(c->value.get(), resolution))
        for (const auto& item : list->items) corrupt.rows.push_back(ids_of(item->text));
  } else if (const ast::Property* t = task_property(task, "template")) {
    // Slots: a list of words, or a copy of another slot.
    std::vector<std::pair<std::string, const ast::Expr*>> lists;
    std::vector<std::pair<std::string, std::string>> copies;
    if (const ast::Property* s = task_property(task, "slots"); s && s->value->kind == ExprKind::Record)
      for (size_t i = 0; i < s->value->labels.size(); ++i) {
        const ast::Expr* v = s->value->items[i].get();
        auto it = resolution.names.find(v);
        if (v->kind == ExprKind::Name && it != resolution.names.end() && it->second.kind == Symbol::Kind::Slot)
          copies.emplace_back(s->value->labels[i], v->text);
        else if (const ast::Expr* list = strings_of(v, resolution))
          lists.emplace_back(s->value->labels[i], list);
      }
    const ast::Property* c = task_property(task, "corrupt");
    for (long long r = 0; r < count; ++r) {
      std::map<std::string, std::string> values;
      std::map<const ast::Expr*, std::set<size_t>> taken;
      for (const auto& [slot, list] : lists) {
        if (list->items.empty()) continue;
        std::vector<size_t> free;
        for (size_t k = 0; k < list->items.size(); ++k)
          if (!taken[list].count(k)) free.push_back(k);
        if (free.empty()) for (size_t k = 0; k < list->items.size(); ++k) free.push_back(k);
        size_t pick = free[std::uniform_int_distribution<size_t>(0, free.size() - 1)(rng)];
        taken[list].insert(pick);
        values[slot] = list->items[pick]->text;
      }
      for (const auto& [slot, source] : copies) values[slot] = values[source];
      Row row = fill(t->value->text, values);
      clean.rows.push_back(ids_of(row.text));
      out.pieces.push_back(model.pieces(row.text));
      for (const auto& [slot, end] : row.slot_end)
        out.slot_positions[slot].push_back(out.offset + static_cast<int>(model.encode(row.text.substr(0, end)).size()) - 1);
      if (c && c->value->kind == ExprKind::String) corrupt.rows.push_back(ids_of(fill(c->value->text, values).text));
      for (const char* name : {"answer", "wrong"}) {
        const ast::Property* a = task_property(task, name);
        if (!a) continue;
        std::string text = a->value->kind == ExprKind::String ? a->value->text : values[a->value->text];
        (std::string(name) == "answer" ? out.answers : out.wrong).push_back(first_id(model, text));
      }
    }
  } else {
    int n = static_cast<int>(std::max<long long>(2, number_property(task, "random_tokens", 2)));
    const std::vector<int32_t> ids = random_token_candidates(model);
    std::uniform_int_distribution<size_t> token(0, ids.size() - 1);
    for (long long r = 0; r < count; ++r) {
      std::vector<int32_t> s(n);
      for (auto& id : s) id = ids[token(rng)];
      std::vector<int32_t> row;
      if (model.bos_id >= 0) row.push_back(model.bos_id);
      row.insert(row.end(), s.begin(), s.end());
      row.insert(row.end(), s.begin(), s.end() - 1);
      clean.rows.push_back(row);
      out.pieces.emplace_back();
      out.answers.push_back(s.back());
    }
  }
  clean.equal_lengths = task_property(task, "template") != nullptr || task_property(task, "random_tokens") != nullptr;
  out.clean_batch = clean.name;
  plan.batches.push_back(std::move(clean));
  if (!corrupt.rows.empty()) {
    corrupt.equal_lengths = true;
    out.corrupt_batch = corrupt.name;
    plan.batches.push_back(std::move(corrupt));
  }
  return out;
}

}  // namespace circuit::compiler
