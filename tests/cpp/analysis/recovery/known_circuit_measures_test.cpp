// The circuit measures on circuits known by construction (models/known-*, docs/known-models.md):
// the true edges carry the whole task (faithfulness and completeness 1: every other edge carries
// nothing), and each of them is needed (minimality: removing one costs a large share of the
// logit difference). These are the values the claims of tests/circuits/known_*.circuit expect.
#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <vector>

#include "runtime/analysis/circuit_measures.h"
#include "tests/cpp/analysis/recovery/known_model_fixture.h"

namespace circuit::rt {
namespace {

double measure(const std::string& model, plan::AnalysisKind kind) {
  const testing::KnownTask task = testing::load_known_task(model);
  plan::Analysis analysis = testing::make_analysis(plan::analysis_kind_name(kind), kind, task);
  analysis.edges.assign(task.true_edges.begin(), task.true_edges.end());
  const ExecutionOptions options;
  const AnalysisContext context{testing::load_model(model), analysis, task.clean, &task.corrupt, options};
  AnalysisResult result = kind == plan::AnalysisKind::Faithfulness   ? faithfulness(context)
                          : kind == plan::AnalysisKind::Completeness ? completeness(context)
                                                                     : minimality(context);
  EXPECT_TRUE(result.value.has_value()) << model << " " << analysis.name;
  std::cout << "[ measured ] " << model << " " << analysis.name << " of the true circuit: " << result.value.value_or(NAN)
            << "\n";
  return result.value.value_or(NAN);
}

TEST(KnownCircuitMeasures, TrueCircuitIsFaithfulAndComplete) {
  for (const std::string model : {"known-prev-token", "known-induction"}) {
    EXPECT_NEAR(measure(model, plan::AnalysisKind::Faithfulness), 1.0, 1e-3) << model;
    EXPECT_NEAR(measure(model, plan::AnalysisKind::Completeness), 1.0, 1e-3) << model;
  }
}

TEST(KnownCircuitMeasures, EveryTrueEdgeIsNeeded) {
  // known-prev-token is a chain: cutting any edge leaves the corrupt answer (drop 1).
  EXPECT_NEAR(measure("known-prev-token", plan::AnalysisKind::Minimality), 1.0, 1e-3);
  // known-induction: patching the key (or query, or the previous-token head's value) alone
  // leaves the induction head a random match, about half the logit difference (0.45).
  const double m = measure("known-induction", plan::AnalysisKind::Minimality);
  EXPECT_GT(m, 0.3);
  EXPECT_LT(m, 0.7);
}

}  // namespace
}  // namespace circuit::rt
