#include "runtime/exec/claims.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <stdexcept>

namespace circuit::rt {
namespace {

std::optional<double> experiment_value(const plan::Experiment& e, const PlanResults& results) {
  for (const std::string& name : e.analyses)
    if (const AnalysisResult* a = results.analysis(name); a && a->value) return *a->value;
  for (const std::string& name : e.passes)
    if (const PassResult* p = results.pass(name); p && !p->metrics.empty()) return p->metrics.front().mean;
  return std::nullopt;
}

}  // namespace

bool compare(double measured, const std::string& comparator, double threshold) {
  const double tolerance = 1e-9 * std::max({1.0, std::abs(measured), std::abs(threshold)});
  if (comparator == "<") return measured < threshold;
  if (comparator == "<=") return measured <= threshold;
  if (comparator == ">") return measured > threshold;
  if (comparator == ">=") return measured >= threshold;
  if (comparator == "==") return std::abs(measured - threshold) <= tolerance;
  if (comparator == "!=") return std::abs(measured - threshold) > tolerance;
  throw std::invalid_argument("unknown comparator '" + comparator + "'");
}

std::vector<ClaimResult> evaluate_claims(const plan::HookPlan& plan, const PlanResults& results) {
  std::vector<ClaimResult> out;
  for (size_t i = 0; i < plan.claims.size(); ++i) {
    const plan::Claim& claim = plan.claims[i];
    const std::string label = "claims[" + std::to_string(i) + "] '" + claim.name + "'";
    ClaimResult r;
    r.name = claim.name;
    r.expression = claim.expression;
    r.comparator = claim.comparator;
    r.threshold = claim.threshold;
    r.location = claim.location;
    if (claim.constant) {
      r.measured = *claim.constant;
    } else {
      auto e = std::find_if(plan.experiments.begin(), plan.experiments.end(),
                            [&](const plan::Experiment& x) { return x.name == claim.experiment; });
      if (e == plan.experiments.end())
        throw std::invalid_argument(label + ": no experiment named '" + claim.experiment + "'");
      std::optional<double> value = experiment_value(*e, results);
      if (!value) throw std::invalid_argument(label + ": experiment '" + claim.experiment + "' measured no value");
      r.measured = *value;
    }
    try {
      r.passed = std::isfinite(r.measured) && compare(r.measured, claim.comparator, claim.threshold);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(label + ": " + e.what());
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace circuit::rt
