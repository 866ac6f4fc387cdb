#include "compiler/optimize/annotate_cache_reuse.h"

#include <algorithm>
#include <limits>
#include <map>

#include "compiler/optimize/plan_references.h"

namespace circuit::plan {
namespace {

// The lowest position `positions` touches in any row the pass runs over.
int first_position(const Positions& positions, const HookPlan& plan, const Pass& pass) {
  if (positions.all()) return 0;
  const TokenBatch* batch = find_batch(plan, pass.batch);
  int first = std::numeric_limits<int>::max();
  for (const auto& row : positions.per_row)
    for (int p : row) first = std::min(first, p);
  if (!positions.per_row.empty()) return first;
  // Negative indices count from each row's end, so the shortest row gives the lowest position.
  size_t shortest = std::numeric_limits<size_t>::max();
  for (const auto& row : batch->rows) shortest = std::min(shortest, row.size());
  for (int p : positions.index) first = std::min(first, p >= 0 ? p : static_cast<int>(shortest) + p);
  return std::max(first, 0);
}

}  // namespace

HookPlan annotate_cache_reuse(HookPlan plan, const OptimizeOptions& options) {
  std::map<std::string, int64_t> reusable_rows;  // batch -> rows of passes that could reuse a cache
  for (Pass& p : plan.passes) {
    p.annotations.first_intervened_layer.reset();
    p.annotations.first_intervened_position.reset();
    p.annotations.cache_from.clear();
    if (p.interventions.empty()) continue;
    int layer = plan.model.n_layers, position = std::numeric_limits<int>::max();
    for (const Intervention& in : p.interventions) {
      layer = std::min(layer, hook_layer(in.hook, plan.model.n_layers));
      position = std::min(position, first_position(in.select.positions, plan, p));
    }
    p.annotations.first_intervened_layer = layer;
    p.annotations.first_intervened_position = position;
    // A backward pass needs the graph through every layer its gradients reach: no reuse.
    if (!p.backward && (layer > 0 || position > 0)) reusable_rows[p.batch] += pass_row_count(plan, p);
  }
  for (const auto& [batch, rows] : reusable_rows) {
    std::optional<size_t> clean = find_clean_run(plan, batch);
    const int64_t batch_rows = static_cast<int64_t>(find_batch(plan, batch)->rows.size());
    if (!clean && options.add_clean_runs_for_reuse && rows >= 2 * batch_rows)
      clean = clean_run_for(plan, batch);
    if (!clean) continue;
    const std::string name = plan.passes[*clean].name;
    for (Pass& p : plan.passes) {
      const PassAnnotations& a = p.annotations;
      if (p.batch != batch || p.backward || !a.first_intervened_layer || p.name == name) continue;
      if (*a.first_intervened_layer > 0 || *a.first_intervened_position > 0) p.annotations.cache_from = name;
    }
  }
  return plan;
}

}  // namespace circuit::plan
