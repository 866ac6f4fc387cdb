// Head detectors find the heads a model's circuit is known to use: on the trained induction-2l
// (models/induction-2l/README.md: previous-token head 0.0, induction heads in layer 1) and on the
// hand-written known-* models (scripts/make_known_models.py), whose attention is set by
// construction.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "runtime/analysis/head_detectors.h"
#include "tests/cpp/analysis/recovery/known_model_fixture.h"

namespace circuit::rt {
namespace {

// BOS, then a random sequence of `period` printable tokens (ids 32..126) twice: the data
// induction-2l was trained on. A fixed LCG keeps the prompts the same on every platform.
plan::TokenBatch repeated_random_tokens(int rows, int period, std::uint64_t seed) {
  plan::TokenBatch batch;
  batch.name = "repeated";
  std::uint64_t state = seed;
  for (int r = 0; r < rows; ++r) {
    std::vector<std::int32_t> s;
    for (int i = 0; i < period; ++i) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      s.push_back(32 + static_cast<std::int32_t>((state >> 33) % 95));
    }
    std::vector<std::int32_t> row{0};
    row.insert(row.end(), s.begin(), s.end());
    row.insert(row.end(), s.begin(), s.end());
    batch.rows.push_back(row);
  }
  return batch;
}

// Heads by descending score: (name, score).
std::vector<std::pair<std::string, double>> ranked(const AnalysisResult& result) {
  std::vector<std::pair<std::string, double>> out;
  for (std::size_t i = 0; i < result.nodes.names.size(); ++i) out.emplace_back(result.nodes.names[i], result.nodes.values[i]);
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

AnalysisResult detect(const std::string& model, plan::AnalysisKind kind, const plan::TokenBatch& prompts) {
  plan::Analysis analysis;
  analysis.name = plan::analysis_kind_name(kind);
  analysis.kind = kind;
  analysis.batch = prompts.name;
  const ExecutionOptions options;
  const AnalysisContext context{testing::load_model(model), analysis, prompts, nullptr, options};
  AnalysisResult result = kind == plan::AnalysisKind::PreviousTokenScore ? previous_token_score(context) : induction_score(context);
  EXPECT_EQ(result.nodes.names.size(), 8u) << "2 layers x 4 heads";
  std::cout << "[ measured ] " << model << " " << analysis.name << ":";
  for (std::size_t i = 0; i < result.nodes.names.size(); ++i)
    std::cout << " " << result.nodes.names[i] << "=" << std::setprecision(3) << result.nodes.values[i];
  std::cout << "\n";
  return result;
}

TEST(HeadDetectorRecovery, Induction2lPreviousTokenHeadIsHead00) {
  const auto heads = ranked(detect("induction-2l", plan::AnalysisKind::PreviousTokenScore, repeated_random_tokens(16, 12, 1)));
  ASSERT_FALSE(heads.empty());
  EXPECT_EQ(heads[0].first, "a0.h0");
  EXPECT_GT(heads[0].second, 2.0 * heads[1].second) << "the runner-up " << heads[1].first;
}

TEST(HeadDetectorRecovery, Induction2lInductionHeadIsInLayer1) {
  const auto heads = ranked(detect("induction-2l", plan::AnalysisKind::InductionScore, repeated_random_tokens(16, 12, 2)));
  ASSERT_FALSE(heads.empty());
  EXPECT_EQ(heads[0].first.rfind("a1.", 0), 0u) << heads[0].first;
  // The README: three redundant induction heads (1.0, 1.1, 1.3); 1.2 is idle. The raw score
  // counts the attention they park on BOS, so it is lower than the README's; the layer-0 heads
  // score near chance.
  double best_layer0 = 0.0;
  for (const auto& [name, score] : heads)
    if (name.rfind("a0.", 0) == 0) best_layer0 = std::max(best_layer0, score);
  EXPECT_GT(heads[0].second, 3.0 * best_layer0) << "best layer-0 head " << best_layer0;
  int layer1_above = 0;
  for (const auto& [name, score] : heads) layer1_above += name.rfind("a1.", 0) == 0 && score > 3.0 * best_layer0;
  EXPECT_GE(layer1_above, 2) << "1.0, 1.1 and 1.3 are induction heads";
}

TEST(HeadDetectorRecovery, KnownInductionHeadsAreTheConstructedOnes) {
  const testing::KnownTask task = testing::load_known_task("known-induction");
  const auto prev = ranked(detect("known-induction", plan::AnalysisKind::PreviousTokenScore, task.clean));
  // a0.h0 attends to i-1 by position; no other head does.
  EXPECT_EQ(prev[0].first, "a0.h0");
  EXPECT_GT(prev[0].second, 0.9);
  EXPECT_LT(prev[1].second, 0.5) << prev[1].first;
  // a1.h0 (the true one) and a1.h3 (dead: same QK, output into an unread subspace).
  const auto ind = ranked(detect("known-induction", plan::AnalysisKind::InductionScore, task.clean));
  const std::vector<std::string> top2{ind[0].first, ind[1].first};
  EXPECT_TRUE(std::is_permutation(top2.begin(), top2.end(), std::vector<std::string>{"a1.h0", "a1.h3"}.begin()))
      << ind[0].first << ", " << ind[1].first;
  EXPECT_GT(ind[1].second, 0.5);
  EXPECT_LT(ind[2].second, 0.5) << ind[2].first;
}

TEST(HeadDetectorRecovery, KnownPrevTokenHeadsAreTheConstructedOnes) {
  const testing::KnownTask task = testing::load_known_task("known-prev-token");
  const auto prev = ranked(detect("known-prev-token", plan::AnalysisKind::PreviousTokenScore, task.clean));
  // a0.h1 (true) and a1.h1 (dead) attend to i-1 by position.
  const std::vector<std::string> top2{prev[0].first, prev[1].first};
  EXPECT_TRUE(std::is_permutation(top2.begin(), top2.end(), std::vector<std::string>{"a0.h1", "a1.h1"}.begin()))
      << prev[0].first << ", " << prev[1].first;
  EXPECT_GT(prev[1].second, 0.9);
  EXPECT_LT(prev[2].second, 0.5) << prev[2].first;
}

}  // namespace
}  // namespace circuit::rt
