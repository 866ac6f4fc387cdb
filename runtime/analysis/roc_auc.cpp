// Sorting once gives each score's average rank (ties share the mean of their ranks); the sum of
// the positives' ranks then counts, for each positive, the negatives below it plus half the tied.
#include "runtime/analysis/roc_auc.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <unordered_map>

namespace circuit::rt {

double roc_auc(const std::vector<double>& scores, const std::vector<bool>& positive) {
  if (scores.size() != positive.size())
    throw std::invalid_argument("roc_auc: " + std::to_string(scores.size()) + " scores but " +
                                std::to_string(positive.size()) + " labels");
  for (double s : scores)
    if (std::isnan(s)) throw std::invalid_argument("roc_auc: a score is NaN");
  const std::size_t n = scores.size();
  const std::size_t n_pos = static_cast<std::size_t>(std::count(positive.begin(), positive.end(), true));
  const std::size_t n_neg = n - n_pos;
  if (n_pos == 0 || n_neg == 0)
    throw std::invalid_argument("roc_auc: needs at least one positive and one negative (" + std::to_string(n_pos) +
                                " positive, " + std::to_string(n_neg) + " negative)");
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  double positive_rank_sum = 0.0;  // 1-based average ranks
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]]) ++j;
    const double rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (std::size_t k = i; k < j; ++k)
      if (positive[order[k]]) positive_rank_sum += rank;
    i = j;
  }
  const double u = positive_rank_sum - static_cast<double>(n_pos) * static_cast<double>(n_pos + 1) / 2.0;
  return u / (static_cast<double>(n_pos) * static_cast<double>(n_neg));
}

double edge_roc_auc(const NamedScores& scores, const std::vector<std::string>& true_edges, bool absolute) {
  if (scores.names.size() != scores.values.size())
    throw std::invalid_argument("edge_roc_auc: " + std::to_string(scores.names.size()) + " names but " +
                                std::to_string(scores.values.size()) + " scores");
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < scores.names.size(); ++i) index.emplace(scores.names[i], i);
  std::vector<bool> positive(scores.names.size(), false);
  for (const auto& name : true_edges) {
    auto it = index.find(name);
    if (it == index.end())
      throw std::invalid_argument("edge_roc_auc: true edge '" + name + "' is not among the scored edges");
    positive[it->second] = true;
  }
  std::vector<double> values = scores.values;
  if (absolute)
    for (double& v : values) v = std::abs(v);
  return roc_auc(values, positive);
}

}  // namespace circuit::rt
