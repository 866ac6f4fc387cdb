#include "compiler/optimize/annotate_logit_positions.h"

#include <algorithm>
#include <map>
#include <set>

namespace circuit::plan {
namespace {

constexpr const char* kLogits = "hook_logits";

// The metric's read position; an empty one means the last token.
Positions read_position(const Metric& m) {
  return m.position.all() ? Positions{{-1}, {}} : m.position;
}

// Union of positions; stays an index list when every part is one, else resolves per batch row.
Positions union_of(const std::vector<Positions>& parts, const TokenBatch& batch) {
  const bool any_per_row = std::any_of(parts.begin(), parts.end(),
                                       [](const Positions& p) { return !p.per_row.empty(); });
  Positions out;
  if (!any_per_row) {
    std::set<int> index;
    for (const Positions& p : parts) index.insert(p.index.begin(), p.index.end());
    out.index.assign(index.begin(), index.end());
    return out;
  }
  std::vector<std::set<int>> rows(batch.rows.size());
  for (const Positions& p : parts) {
    for (size_t r = 0; r < rows.size(); ++r) {
      const int length = static_cast<int>(batch.rows[r].size());
      if (!p.per_row.empty()) rows[r].insert(p.per_row[r].begin(), p.per_row[r].end());
      else
        for (int i : p.index) rows[r].insert(i >= 0 ? i : length + i);
    }
  }
  for (const auto& row : rows) out.per_row.emplace_back(row.begin(), row.end());
  return out;
}

}  // namespace

HookPlan annotate_logit_positions(HookPlan plan, const OptimizeOptions&) {
  std::map<std::string, std::vector<Positions>> kl_reads;  // reference pass -> positions read
  std::set<std::string> logits_read_whole;  // passes whose whole logits another pass reads
  for (const Pass& p : plan.passes) {
    for (const Metric& m : p.metrics)
      if (m.kind == MetricKind::Kl) kl_reads[m.reference_pass].push_back(read_position(m));
    for (const Intervention& in : p.interventions)
      if (in.hook == kLogits && !in.source_pass.empty()) logits_read_whole.insert(in.source_pass);
  }
  for (Pass& p : plan.passes) {
    PassAnnotations& a = p.annotations;
    a.logit_positions.reset();
    const bool saves_logits = std::any_of(p.saves.begin(), p.saves.end(),
                                          [](const Save& s) { return s.hook == kLogits; });
    if (saves_logits || logits_read_whole.count(p.name)) {
      a.logits_needed = true;  // every position: no narrowing
      continue;
    }
    std::vector<Positions> parts = kl_reads[p.name];
    for (const Metric& m : p.metrics) parts.push_back(read_position(m));
    a.logits_needed = !parts.empty();
    if (parts.empty()) continue;
    a.logit_positions = union_of(parts, *find_batch(plan, p.batch));
  }
  return plan;
}

}  // namespace circuit::plan
