#include "compiler/optimize/share_clean_runs.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "compiler/optimize/plan_references.h"

namespace circuit::plan {
namespace {

// Merges `from` into `into` when their metrics do not clash (same name, different content).
bool merge_clean(Pass& into, const Pass& from) {
  for (const Metric& m : from.metrics)
    for (const Metric& existing : into.metrics)
      if (existing.name == m.name && existing != m) return false;
  if (into.slices != from.slices) return false;
  for (const Save& s : from.saves)
    if (std::find(into.saves.begin(), into.saves.end(), s) == into.saves.end()) into.saves.push_back(s);
  for (const Metric& m : from.metrics)
    if (std::find(into.metrics.begin(), into.metrics.end(), m) == into.metrics.end()) into.metrics.push_back(m);
  return true;
}

void merge_clean_runs(HookPlan& plan) {
  // Key: the rows a pass runs over, normalized so that n_rows 0 and n_rows N agree.
  std::map<std::tuple<std::string, int, int>, size_t> first;
  std::map<std::string, std::string> renamed;
  std::vector<bool> removed(plan.passes.size(), false);
  for (size_t i = 0; i < plan.passes.size(); ++i) {
    Pass& p = plan.passes[i];
    if (!is_clean_run(p)) continue;
    auto key = std::make_tuple(p.batch, p.row_offset, pass_row_count(plan, p));
    auto [it, inserted] = first.emplace(key, i);
    if (inserted) continue;
    Pass& keep = plan.passes[it->second];
    if (!merge_clean(keep, p)) continue;
    renamed[p.name] = keep.name;
    removed[i] = true;
  }
  if (renamed.empty()) return;
  std::vector<Pass> kept;
  for (size_t i = 0; i < plan.passes.size(); ++i)
    if (!removed[i]) kept.push_back(std::move(plan.passes[i]));
  plan.passes = std::move(kept);
  rename_pass_references(plan, renamed);
}

// Points freeze and batch-referenced ablations at the clean run of the batch they read.
void resolve_sources(HookPlan& plan) {
  for (size_t i = 0; i < plan.passes.size(); ++i) {
    for (size_t j = 0; j < plan.passes[i].interventions.size(); ++j) {
      Intervention& in = plan.passes[i].interventions[j];
      std::string batch;
      if (in.action == Action::Freeze && in.source_pass.empty()) batch = plan.passes[i].batch;
      if ((in.action == Action::MeanAblate || in.action == Action::ResampleAblate) &&
          in.source_pass.empty())
        batch = in.source_batch;
      if (batch.empty()) continue;
      const std::string hook = in.hook;
      const size_t clean = clean_run_for(plan, batch);  // may grow plan.passes
      ensure_saved(plan.passes[clean], hook);
      Intervention& resolved = plan.passes[i].interventions[j];
      resolved.source_pass = plan.passes[clean].name;
      resolved.source_batch.clear();
    }
  }
}

}  // namespace

HookPlan share_clean_runs(HookPlan plan, const OptimizeOptions&) {
  merge_clean_runs(plan);
  resolve_sources(plan);
  return plan;
}

}  // namespace circuit::plan
