// MemoryLedger: the executor's own account of the bytes a run holds (saves, gradients, metrics,
// what passes leave for later ones, analyses' outputs), checked against the memory budget as
// they grow: a guard behind the estimate made before the run (run_memory.h), refusing with the
// same one-line message should a save outgrow it. Part of the runtime's execute stage.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "compiler/plan/hook_plan.h"

namespace at {
class Tensor;
}

namespace circuit::rt {

struct PlanResults;

class MemoryLedger {
 public:
  // `budget` 0: no limit (the ledger still counts). `held`: bytes earlier stages hold.
  MemoryLedger(std::int64_t budget, std::int64_t held) : budget_(budget), held_(held) {}

  // Throws std::invalid_argument (over_budget_message, naming `what`) when holding `extra` more
  // bytes would go over the budget.
  void check(std::int64_t extra, const std::string& what) const;
  // check, then count the bytes as held.
  void hold(std::int64_t bytes, const std::string& what);
  void release(std::int64_t bytes);
  std::int64_t held() const { return held_; }

 private:
  std::int64_t budget_;
  std::int64_t held_;
};

// Bytes of a tensor's elements; of plan tensors and maps of them; of what a finished plan's
// results hold (kept to the end of the run, and copied once more to be written).
std::int64_t tensor_bytes(const at::Tensor& t);
std::int64_t tensor_bytes(const plan::Tensor& t);
std::int64_t tensor_bytes(const std::map<std::string, plan::Tensor>& tensors);
std::int64_t tensor_bytes(const std::map<std::string, at::Tensor>& tensors);
std::int64_t results_bytes(const PlanResults& results);

}  // namespace circuit::rt
