#include "runtime/exec/pass_order.h"

#include <functional>
#include <map>
#include <queue>
#include <stdexcept>
#include <string_view>

namespace circuit::rt {

PassOrder order_passes(const plan::HookPlan& plan) {
  const std::size_t n = plan.passes.size();
  std::map<std::string_view, std::size_t> index;
  for (std::size_t i = 0; i < n; ++i) index.emplace(plan.passes[i].name, i);
  PassOrder out;
  out.activation_readers.assign(n, 0);
  out.logits_readers.assign(n, 0);
  out.cache_readers.assign(n, 0);
  std::vector<std::vector<std::size_t>> readers(n);
  std::vector<std::size_t> pending(n, 0);
  auto edge = [&](std::size_t reader, const std::string& source, std::vector<int>& counts) {
    auto it = index.find(source);
    if (source.empty() || it == index.end()) return;
    if (it->second == reader)
      throw std::invalid_argument("passes[" + std::to_string(reader) + "] '" + plan.passes[reader].name +
                                  "' reads itself");
    readers[it->second].push_back(reader);
    ++pending[reader];
    ++counts[it->second];
  };
  for (std::size_t i = 0; i < n; ++i) {
    const plan::Pass& p = plan.passes[i];
    for (const plan::Intervention& in : p.interventions) edge(i, in.source_pass, out.activation_readers);
    for (const plan::Metric& m : p.metrics)
      if (m.kind == plan::MetricKind::Kl) edge(i, m.reference_pass, out.logits_readers);
    edge(i, p.annotations.cache_from, out.cache_readers);
  }
  // Kahn's algorithm, always taking the earliest ready pass: plan order where it is free.
  std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> ready;
  for (std::size_t i = 0; i < n; ++i)
    if (pending[i] == 0) ready.push(i);
  while (!ready.empty()) {
    const std::size_t i = ready.top();
    ready.pop();
    out.order.push_back(i);
    for (std::size_t r : readers[i])
      if (--pending[r] == 0) ready.push(r);
  }
  if (out.order.size() != n) {
    for (std::size_t i = 0; i < n; ++i)
      if (pending[i] > 0)
        throw std::invalid_argument("passes[" + std::to_string(i) + "] '" + plan.passes[i].name +
                                    "' is on a cycle of references between passes");
  }
  return out;
}

}  // namespace circuit::rt
