// ROC AUC of scores against true labels: how well a ranking of edges (EAP, EAP-IG, ACDC
// scores) separates a known circuit's edges from the rest. Part of the runtime's analysis stage;
// the recovery tests on the known-circuit models (tests/cpp/analysis/recovery) use it.
#pragma once

#include <string>
#include <vector>

#include "runtime/exec/plan_results.h"

namespace circuit::rt {

// The probability that a random positive scores above a random negative, a tie counting 1/2
// (the Mann-Whitney U statistic over n_positive * n_negative). Throws std::invalid_argument
// when the sizes differ, a score is NaN, or either class is empty.
double roc_auc(const std::vector<double>& scores, const std::vector<bool>& positive);

// Over every edge in `scores`: positives are the names in `true_edges`, ranked by |score| when
// `absolute` (EAP's signed scores), else by the score. Throws std::invalid_argument naming a
// true edge that is not among the scored names.
double edge_roc_auc(const NamedScores& scores, const std::vector<std::string>& true_edges, bool absolute = true);

}  // namespace circuit::rt
