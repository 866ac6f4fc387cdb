#include "runtime/exec/plan_results.h"

#include <algorithm>

namespace circuit::rt {
namespace {

template <typename T>
const T* by_name(const std::vector<T>& items, std::string_view name) {
  auto it = std::find_if(items.begin(), items.end(), [&](const T& x) { return x.name == name; });
  return it == items.end() ? nullptr : &*it;
}

}  // namespace

const PassResult* PlanResults::pass(std::string_view name) const { return by_name(passes, name); }
const SweepResult* PlanResults::sweep(std::string_view name) const { return by_name(sweeps, name); }
const AnalysisResult* PlanResults::analysis(std::string_view name) const { return by_name(analyses, name); }

}  // namespace circuit::rt
