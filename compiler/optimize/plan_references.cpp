#include "compiler/optimize/plan_references.h"

#include <algorithm>
#include <charconv>

namespace circuit::plan {

void for_each_pass_reference(HookPlan& plan, const std::function<void(std::string&)>& visit) {
  auto visit_intervention = [&](Intervention& in) {
    if (!in.source_pass.empty()) visit(in.source_pass);
  };
  for (Pass& p : plan.passes) {
    for (Intervention& in : p.interventions) visit_intervention(in);
    for (Metric& m : p.metrics) {
      if (!m.reference_pass.empty()) visit(m.reference_pass);
      if (m.normalize) {
        visit(m.normalize->clean_pass);
        visit(m.normalize->corrupt_pass);
      }
    }
    if (!p.annotations.cache_from.empty()) visit(p.annotations.cache_from);
  }
  for (Sweep& s : plan.sweeps) {
    visit(s.target_pass);
    visit_intervention(s.intervention);
  }
  for (Experiment& e : plan.experiments)
    for (std::string& name : e.passes) visit(name);
}

void rename_pass_references(HookPlan& plan, const std::map<std::string, std::string>& renamed) {
  if (renamed.empty()) return;
  for_each_pass_reference(plan, [&](std::string& name) {
    // Follow chains (a -> b, b -> c) so that a rename of a rename lands on the survivor.
    for (int hops = 0; hops < 64; ++hops) {
      auto it = renamed.find(name);
      if (it == renamed.end() || it->second == name) break;
      name = it->second;
    }
  });
  for (Experiment& e : plan.experiments) {
    std::vector<std::string> unique;
    for (std::string& name : e.passes)
      if (std::find(unique.begin(), unique.end(), name) == unique.end()) unique.push_back(name);
    e.passes = std::move(unique);
  }
}

std::vector<std::string> passes_read_by(const Pass& pass) {
  std::vector<std::string> out;
  for (const Intervention& in : pass.interventions)
    if (!in.source_pass.empty()) out.push_back(in.source_pass);
  for (const Metric& m : pass.metrics) {
    if (!m.reference_pass.empty()) out.push_back(m.reference_pass);
    if (m.normalize) {
      out.push_back(m.normalize->clean_pass);
      out.push_back(m.normalize->corrupt_pass);
    }
  }
  if (!pass.annotations.cache_from.empty()) out.push_back(pass.annotations.cache_from);
  return out;
}

std::string unique_pass_name(const HookPlan& plan, const std::string& base,
                             const std::set<std::string>& taken) {
  auto free = [&](const std::string& name) { return !find_pass(plan, name) && !taken.count(name); };
  if (free(base)) return base;
  for (int i = 2;; ++i) {
    std::string name = base + "~" + std::to_string(i);
    if (free(name)) return name;
  }
}

bool is_clean_run(const Pass& pass) { return pass.interventions.empty() && !pass.backward; }

std::optional<size_t> find_clean_run(const HookPlan& plan, const std::string& batch) {
  const TokenBatch* b = find_batch(plan, batch);
  const int rows = b ? static_cast<int>(b->rows.size()) : 0;
  for (size_t i = 0; i < plan.passes.size(); ++i) {
    const Pass& p = plan.passes[i];
    if (p.batch == batch && is_clean_run(p) && p.row_offset == 0 && pass_row_count(plan, p) == rows)
      return i;
  }
  return std::nullopt;
}

size_t clean_run_for(HookPlan& plan, const std::string& batch) {
  if (std::optional<size_t> found = find_clean_run(plan, batch)) return *found;
  Pass clean;
  clean.name = unique_pass_name(plan, "clean:" + batch);
  clean.batch = batch;
  plan.passes.push_back(std::move(clean));
  return plan.passes.size() - 1;
}

void ensure_saved(Pass& pass, const std::string& hook) {
  for (const Save& s : pass.saves)
    if (s.hook == hook && s.select == Selection{}) return;
  pass.saves.push_back(Save{hook, {}, false});
}

int hook_layer(std::string_view hook, int n_layers) {
  constexpr std::string_view prefix = "blocks.";
  if (hook.substr(0, prefix.size()) == prefix) {
    int layer = 0;
    const char* first = hook.data() + prefix.size();
    auto [end, ec] = std::from_chars(first, hook.data() + hook.size(), layer);
    if (ec == std::errc() && end != first) return layer;
  }
  if (hook == "hook_embed" || hook == "hook_pos_embed") return 0;
  return n_layers;
}

}  // namespace circuit::plan
