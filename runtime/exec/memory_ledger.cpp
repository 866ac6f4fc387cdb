#include "runtime/exec/memory_ledger.h"

#include <ATen/ATen.h>

#include <stdexcept>

#include "runtime/exec/plan_results.h"
#include "runtime/exec/run_memory.h"

namespace circuit::rt {

void MemoryLedger::check(std::int64_t extra, const std::string& what) const {
  if (budget_ > 0 && held_ + extra > budget_) throw std::invalid_argument(over_budget_message(held_ + extra, what, budget_));
}

void MemoryLedger::hold(std::int64_t bytes, const std::string& what) {
  check(bytes, what);
  held_ += bytes;
}

void MemoryLedger::release(std::int64_t bytes) { held_ = std::max<std::int64_t>(0, held_ - bytes); }

std::int64_t tensor_bytes(const at::Tensor& t) {
  return t.defined() ? static_cast<std::int64_t>(t.numel()) * static_cast<std::int64_t>(t.element_size()) : 0;
}

std::int64_t tensor_bytes(const plan::Tensor& t) {
  return static_cast<std::int64_t>(t.data.size() * sizeof(float));
}

std::int64_t tensor_bytes(const std::map<std::string, plan::Tensor>& tensors) {
  std::int64_t bytes = 0;
  for (const auto& [name, t] : tensors) bytes += tensor_bytes(t);
  return bytes;
}

std::int64_t tensor_bytes(const std::map<std::string, at::Tensor>& tensors) {
  std::int64_t bytes = 0;
  for (const auto& [name, t] : tensors) bytes += tensor_bytes(t);
  return bytes;
}

std::int64_t results_bytes(const PlanResults& results) {
  std::int64_t bytes = 0;
  for (const PassResult& p : results.passes) {
    bytes += 2 * (tensor_bytes(p.saves) + tensor_bytes(p.gradients));  // kept, and the writer's copy
    for (const MetricResult& m : p.metrics) bytes += static_cast<std::int64_t>(m.per_row.size()) * (8 + 64);
  }
  for (const AnalysisResult& a : results.analyses) {
    bytes += 2 * tensor_bytes(a.tensors);
    bytes += static_cast<std::int64_t>(a.nodes.names.size() + a.edges.names.size() + a.circuit.size()) * 96;
  }
  for (const SweepResult& s : results.sweeps) bytes += static_cast<std::int64_t>(s.items.size()) * 96;
  return bytes;
}

}  // namespace circuit::rt
