// ROC AUC: perfect and reversed rankings, ties counted 1/2, a hand-computed case, edge names
// ranked by |score|, and one-line errors.
#include "runtime/analysis/roc_auc.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

namespace circuit::rt {
namespace {

TEST(RocAuc, PerfectReversedAndTiedRankings) {
  EXPECT_DOUBLE_EQ(roc_auc({0.1, 0.2, 0.8, 0.9}, {false, false, true, true}), 1.0);
  EXPECT_DOUBLE_EQ(roc_auc({0.9, 0.8, 0.2, 0.1}, {false, false, true, true}), 0.0);
  EXPECT_DOUBLE_EQ(roc_auc({1, 1, 1, 1}, {false, true, false, true}), 0.5);
}

TEST(RocAuc, HandComputedCases) {
  // Positives 0.35 and 0.8 against negatives 0.1 and 0.4: 3 of 4 pairs ordered.
  EXPECT_DOUBLE_EQ(roc_auc({0.1, 0.4, 0.35, 0.8}, {false, false, true, true}), 0.75);
  // A positive tied with one negative (1/2) and above the other (1).
  EXPECT_DOUBLE_EQ(roc_auc({1, 1, 0}, {true, false, false}), 0.75);
  // Ties among positives only do not matter.
  EXPECT_DOUBLE_EQ(roc_auc({2, 2, 0, 1}, {true, true, false, false}), 1.0);
}

TEST(RocAuc, EdgesRankedByMagnitude) {
  NamedScores scores{{"a", "b", "c", "d"}, {-5.0, 0.1, 3.0, -0.2}};
  EXPECT_DOUBLE_EQ(edge_roc_auc(scores, {"a", "c"}), 1.0);
  EXPECT_DOUBLE_EQ(edge_roc_auc(scores, {"a", "c"}, false), 0.5);  // -5 ranks lowest
  EXPECT_THROW(edge_roc_auc(scores, {"e"}), std::invalid_argument);
}

TEST(RocAuc, RejectsWhatHasNoAnswer) {
  EXPECT_THROW(roc_auc({1, 2}, {true, true}), std::invalid_argument);
  EXPECT_THROW(roc_auc({1, 2}, {false, false}), std::invalid_argument);
  EXPECT_THROW(roc_auc({1, 2}, {true}), std::invalid_argument);
  EXPECT_THROW(roc_auc({1, NAN}, {true, false}), std::invalid_argument);
  try {
    roc_auc({}, {});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "roc_auc: needs at least one positive and one negative (0 positive, 0 negative)");
  }
}

}  // namespace
}  // namespace circuit::rt
