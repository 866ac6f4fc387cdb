#include "runtime/exec/sweep_report.h"

#include <algorithm>

namespace circuit::rt {
namespace {

struct ItemSum {
  SweepItemResult item;
  double sum = 0.0;
  int rows = 0;
};

struct SweepSums {
  SweepResult result;
  std::map<int, ItemSum> items;
};

// The item's own intervention: the last one of the pass covering the slice's first row (the
// target's interventions come first in a stacked pass, the items' after them).
const plan::Intervention* item_intervention(const plan::Pass& pass, const plan::RowSlice& slice) {
  const plan::Intervention* found = nullptr;
  for (const plan::Intervention& in : pass.interventions) {
    const auto& rows = in.select.rows;
    if (rows.empty() || std::find(rows.begin(), rows.end(), slice.first_row) != rows.end()) found = &in;
  }
  return found;
}

}  // namespace

std::string hook_pattern(const std::string& hook, int layer) {
  const std::string concrete = "blocks." + std::to_string(layer) + ".";
  const size_t at = hook.find(concrete);
  if (at == std::string::npos) return hook;
  return hook.substr(0, at) + "blocks.{layer}." + hook.substr(at + concrete.size());
}

std::vector<SweepResult> report_sweeps(const plan::HookPlan& plan, const std::vector<PassResult>& passes,
                                       const std::map<std::string, std::string>& sweep_hooks) {
  std::vector<std::string> order;
  std::map<std::string, SweepSums> sweeps;
  for (size_t i = 0; i < plan.passes.size(); ++i) {
    const plan::Pass& pass = plan.passes[i];
    if (pass.slices.empty() || passes[i].metrics.empty()) continue;
    const MetricResult& metric = passes[i].metrics.front();
    for (const plan::RowSlice& slice : pass.slices) {
      auto [it, inserted] = sweeps.try_emplace(slice.sweep);
      SweepSums& s = it->second;
      if (inserted) {
        order.push_back(slice.sweep);
        s.result.name = slice.sweep;
        s.result.metric = metric.name;
        if (auto known = sweep_hooks.find(slice.sweep); known != sweep_hooks.end()) {
          s.result.hook = known->second;
        } else if (const plan::Intervention* in = item_intervention(pass, slice)) {
          s.result.hook = slice.layer ? hook_pattern(in->hook, *slice.layer) : in->hook;
        }
      }
      ItemSum& item = s.items[slice.item];
      item.item.item = slice.item;
      item.item.layer = slice.layer;
      item.item.head = slice.head;
      item.item.position = slice.position;
      for (int r = slice.first_row; r < slice.first_row + slice.n_rows; ++r) {
        item.sum += metric.per_row.at(static_cast<size_t>(r));
        ++item.rows;
      }
    }
  }
  std::vector<SweepResult> out;
  for (const std::string& name : order) {
    SweepSums& s = sweeps.at(name);
    for (auto& [index, item] : s.items) {
      item.item.value = item.rows > 0 ? item.sum / item.rows : 0.0;
      s.result.items.push_back(item.item);
    }
    out.push_back(std::move(s.result));
  }
  return out;
}

}  // namespace circuit::rt
