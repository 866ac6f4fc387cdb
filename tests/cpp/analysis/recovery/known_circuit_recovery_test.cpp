// Circuit discovery recovers circuits known by construction: on each models/known-* model
// (hand-written weights, scripts/make_known_models.py; docs/known-models.md) EAP, EAP-IG and
// ACDC edge scores separate the true edges of its circuit.json from every other edge of the
// full graph (ROC AUC of |score| >= 0.95; by construction a false edge carries nothing, so
// every true edge should in fact score above every false one), and the circuits they report
// are exactly the true edges.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "runtime/analysis/acdc.h"
#include "runtime/analysis/eap.h"
#include "runtime/analysis/edge_graph.h"
#include "runtime/analysis/roc_auc.h"
#include "tests/cpp/analysis/recovery/known_model_fixture.h"

namespace circuit::rt {
namespace {

using testing::KnownTask;

constexpr double kMinAuc = 0.95;
// ACDC's threshold on |change of logit_diff|: a true edge moves it by 8-20 logits on these
// models, a false edge by nothing (float rounding).
constexpr double kAcdcThreshold = 0.5;

struct Case {
  std::string model;
  plan::AnalysisKind kind;
};

// Readable in ctest's names and in failures (instead of gtest's byte dump).
void PrintTo(const Case& c, std::ostream* os) { *os << c.model << " " << plan::analysis_kind_name(c.kind); }

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string name = info.param.model + "_" + plan::analysis_kind_name(info.param.kind);
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

class KnownCircuitRecovery : public ::testing::TestWithParam<Case> {
 protected:
  AnalysisResult run(const Case& c, const KnownTask& task) {
    plan::Analysis analysis = testing::make_analysis("recover", c.kind, task);
    analysis.top = static_cast<int>(task.true_edges.size());
    analysis.steps = 5;
    analysis.threshold = kAcdcThreshold;
    const ExecutionOptions options;
    const AnalysisContext context{testing::load_model(c.model), analysis, task.clean, &task.corrupt, options};
    return c.kind == plan::AnalysisKind::Acdc ? acdc(context) : edge_attribution_patching(context);
  }
};

TEST_P(KnownCircuitRecovery, EdgeScoresSeparateTrueFromFalseEdges) {
  const Case& c = GetParam();
  const KnownTask task = testing::load_known_task(c.model);
  const AnalysisResult result = run(c, task);

  // Scores cover the full graph, and every true edge is an edge of it.
  const EdgeGraph graph(testing::load_model(c.model).config());
  ASSERT_EQ(result.edges.names, graph.edge_names());
  ASSERT_EQ(result.edges.values.size(), graph.edge_count());
  for (const std::string& e : task.true_edges) EXPECT_TRUE(graph.find_edge(e).has_value()) << e;

  const double auc =
      edge_roc_auc(result.edges, std::vector<std::string>(task.true_edges.begin(), task.true_edges.end()));
  double min_true = INFINITY, max_false = 0.0;
  for (std::size_t i = 0; i < result.edges.names.size(); ++i) {
    const double m = std::abs(result.edges.values[i]);
    if (task.true_edges.count(result.edges.names[i])) min_true = std::min(min_true, m);
    else max_false = std::max(max_false, m);
  }
  RecordProperty("roc_auc", std::to_string(auc));
  std::cout << "[ measured ] " << c.model << " " << plan::analysis_kind_name(c.kind) << ": ROC AUC " << auc
            << ", weakest true edge " << min_true << ", strongest false edge " << max_false << "\n";
  EXPECT_GE(auc, kMinAuc);
  // The construction leaves false edges nothing to carry: an order of magnitude at least.
  EXPECT_GT(min_true, 10.0 * max_false) << "weakest true edge " << min_true << ", strongest false edge " << max_false;

  // The reported circuit (EAP's top-k with k = the true edge count, ACDC's kept edges) is the
  // true circuit.
  const std::set<std::string> found(result.circuit.begin(), result.circuit.end());
  EXPECT_EQ(found, task.true_edges);
}

INSTANTIATE_TEST_SUITE_P(
    KnownModels, KnownCircuitRecovery,
    ::testing::Values(Case{"known-prev-token", plan::AnalysisKind::Eap},
                      Case{"known-prev-token", plan::AnalysisKind::EapIg},
                      Case{"known-prev-token", plan::AnalysisKind::Acdc},
                      Case{"known-induction", plan::AnalysisKind::Eap},
                      Case{"known-induction", plan::AnalysisKind::EapIg},
                      Case{"known-induction", plan::AnalysisKind::Acdc}),
    case_name);

// The corrupt prompts must flip the task for the scores to mean anything: the clean logit
// difference is large and positive, the corrupt one as large and negative (EAP reports both).
TEST(KnownCircuitTask, CorruptPromptsFlipTheLogitDifference) {
  for (const std::string model : {"known-prev-token", "known-induction"}) {
    const KnownTask task = testing::load_known_task(model);
    plan::Analysis analysis = testing::make_analysis("flip", plan::AnalysisKind::Eap, task);
    const ExecutionOptions options;
    const AnalysisContext context{testing::load_model(model), analysis, task.clean, &task.corrupt, options};
    const AnalysisResult result = edge_attribution_patching(context);
    ASSERT_TRUE(result.values.count("metric_clean") && result.values.count("metric_corrupt")) << model;
    EXPECT_GT(result.values.at("metric_clean"), 5.0) << model;
    EXPECT_LT(result.values.at("metric_corrupt"), -5.0) << model;
  }
}

}  // namespace
}  // namespace circuit::rt
