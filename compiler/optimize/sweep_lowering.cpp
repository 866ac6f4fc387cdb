#include "compiler/optimize/sweep_lowering.h"

#include <algorithm>

#include "compiler/optimize/plan_references.h"

namespace circuit::plan {
namespace {

constexpr std::string_view kLayerSlot = "{layer}";

// A run of one item's rows inside a forward.
struct Segment {
  int item;
  int local_first;  // the item's rows (target pass rows) [local_first, local_first + count)
  int count;
  int pass_first;   // where they sit in the forward
};

// Target-pass row indices `rows` (empty: all) mapped into a forward's rows, per segment.
std::vector<int> map_rows(const std::vector<int>& rows, const std::vector<Segment>& segments) {
  std::vector<int> out;
  for (const Segment& s : segments) {
    if (rows.empty()) {
      for (int r = 0; r < s.count; ++r) out.push_back(s.pass_first + r);
      continue;
    }
    for (int r : rows)
      if (r >= s.local_first && r < s.local_first + s.count) out.push_back(s.pass_first + r - s.local_first);
  }
  return out;
}

Pass build_forward(const HookPlan& plan, const Sweep& sweep, const Pass& target,
                   const std::vector<SweepItem>& items, const std::vector<Segment>& segments,
                   int rows, const std::string& name) {
  const int n = static_cast<int>(find_batch(plan, target.batch)->rows.size());
  Pass p;
  p.name = name;
  p.batch = target.batch;
  p.row_offset = (target.row_offset + segments.front().local_first) % n;
  p.n_rows = rows;
  p.saves = target.saves;
  p.metrics = target.metrics;
  p.backward = target.backward;
  const bool one_item_all_rows = segments.size() == 1;
  // The target's own interventions apply to every item; a row-restricted one follows its rows.
  for (const Intervention& in : target.interventions) {
    Intervention copy = in;
    if (!in.select.rows.empty()) {
      copy.select.rows = map_rows(in.select.rows, segments);
      if (copy.select.rows.empty()) continue;  // none of its rows are in this forward
    }
    p.interventions.push_back(std::move(copy));
  }
  for (const Segment& s : segments) {
    const SweepItem& item = items[s.item];
    Intervention in = item_intervention(sweep, item);
    if (!one_item_all_rows || !in.select.rows.empty()) {
      in.select.rows = map_rows(in.select.rows, {s});
      if (in.select.rows.empty()) continue;
    }
    p.interventions.push_back(std::move(in));
    RowSlice slice;
    slice.sweep = sweep.name;
    slice.item = item.index;
    slice.first_row = s.pass_first;
    slice.n_rows = s.count;
    slice.batch_row_offset = (target.row_offset + s.local_first) % n;
    slice.layer = item.layer;
    slice.head = item.head;
    slice.position = item.position;
    p.slices.push_back(std::move(slice));
  }
  return p;
}

}  // namespace

std::vector<SweepItem> sweep_items(const Sweep& sweep) {
  auto axis = [](const std::vector<int>& values) {
    std::vector<std::optional<int>> out;
    for (int v : values) out.emplace_back(v);
    if (out.empty()) out.emplace_back(std::nullopt);
    return out;
  };
  std::vector<SweepItem> items;
  for (auto layer : axis(sweep.layers))
    for (auto head : axis(sweep.heads))
      for (auto position : axis(sweep.positions))
        items.push_back(SweepItem{static_cast<int>(items.size()), layer, head, position});
  return items;
}

Intervention item_intervention(const Sweep& sweep, const SweepItem& item) {
  Intervention in = sweep.intervention;
  if (item.layer) {
    const size_t at = in.hook.find(kLayerSlot);
    if (at != std::string::npos) in.hook.replace(at, kLayerSlot.size(), std::to_string(*item.layer));
  }
  if (item.head) in.select.heads = {*item.head};
  if (item.position) in.select.positions = Positions{{*item.position}, {}};
  return in;
}

std::vector<Pass> lower_sweep(const HookPlan& plan, const Sweep& sweep, int rows_per_forward,
                              bool stack, std::set<std::string>& taken) {
  const Pass* target = find_pass(plan, sweep.target_pass);
  const TokenBatch* batch = target ? find_batch(plan, target->batch) : nullptr;
  if (!batch || batch->rows.empty()) return {};
  const int n = static_cast<int>(batch->rows.size());
  const int r = pass_row_count(plan, *target);
  const int cap = std::max(1, rows_per_forward);
  const std::vector<SweepItem> items = sweep_items(sweep);

  // Each forward is a list of segments. Items share forwards only when the target covers its
  // batch a whole number of times, so that a forward's rows stay one run of the virtual batch.
  std::vector<std::vector<Segment>> forwards;
  if (stack && r % n == 0) {
    const int64_t total = static_cast<int64_t>(items.size()) * r;
    for (int64_t first = 0; first < total; first += cap) {
      const int64_t end = std::min<int64_t>(first + cap, total);
      std::vector<Segment> segments;
      for (int64_t g = first; g < end;) {
        const int item = static_cast<int>(g / r);
        const int64_t item_end = std::min<int64_t>(end, static_cast<int64_t>(item + 1) * r);
        segments.push_back(Segment{item, static_cast<int>(g % r), static_cast<int>(item_end - g),
                                   static_cast<int>(g - first)});
        g = item_end;
      }
      forwards.push_back(std::move(segments));
    }
  } else {
    for (size_t item = 0; item < items.size(); ++item)
      for (int first = 0; first < r; first += cap)
        forwards.push_back({Segment{static_cast<int>(item), first, std::min(cap, r - first), 0}});
  }

  std::vector<Pass> out;
  for (size_t k = 0; k < forwards.size(); ++k) {
    int rows = 0;
    for (const Segment& s : forwards[k]) rows += s.count;
    const std::string name = unique_pass_name(plan, sweep.name + "#" + std::to_string(k), taken);
    taken.insert(name);
    out.push_back(build_forward(plan, sweep, *target, items, forwards[k], rows, name));
  }
  return out;
}

int rows_per_forward(const HookPlan& plan, const std::string& batch, const OptimizeOptions& options) {
  int rows = std::max(1, options.max_batch_rows);
  const TokenBatch* b = find_batch(plan, batch);
  if (options.max_batch_tokens > 0 && b) {
    // Rows are padded to the longest one, so the budget counts every row at that length.
    size_t longest = 1;
    for (const auto& row : b->rows) longest = std::max(longest, row.size());
    const int64_t fit = options.max_batch_tokens / static_cast<int64_t>(longest);
    rows = static_cast<int>(std::clamp<int64_t>(fit, 1, rows));
  }
  return rows;
}

HookPlan lower_sweeps(HookPlan plan, const OptimizeOptions& options, bool stack) {
  std::set<std::string> taken;
  std::vector<Pass> added;
  for (const Sweep& sweep : plan.sweeps) {
    const Pass* target = find_pass(plan, sweep.target_pass);
    if (!target) continue;
    const int cap = rows_per_forward(plan, target->batch, options);
    for (Pass& p : lower_sweep(plan, sweep, cap, stack, taken)) added.push_back(std::move(p));
  }
  plan.sweeps.clear();
  for (Pass& p : added) plan.passes.push_back(std::move(p));
  return plan;
}

}  // namespace circuit::plan
