// The circuit measures on tiny models: faithfulness of the full graph is 1 and of the empty
// circuit 0 (with a task metric and with KL), completeness the mirror image, minimality each
// edge's normalized drop, and the MIB curve (CPR, CMD) over EAP's ranking.
#include "runtime/analysis/circuit_measures.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "runtime/analysis/eap.h"
#include "tests/cpp/analysis/edge/edge_fixtures.h"
#include "tests/cpp/runtime/tiny_models.h"

namespace circuit::rt {
namespace {

using formats::Family;

class CircuitMeasures : public ::testing::TestWithParam<Family> {
 protected:
  void SetUp() override {
    model_ = std::make_unique<HookedModel>(testing::tiny_model(GetParam()));
    graph_ = std::make_unique<EdgeGraph>(model_->config());
    c_ = testing::random_case(plan::AnalysisKind::Faithfulness, 3, 6, model_->config().d_vocab, 17);
  }
  double measure(plan::AnalysisKind kind, std::vector<std::string> edges) {
    c_.analysis.kind = kind;
    c_.analysis.edges = std::move(edges);
    const AnalysisContext context = c_.context(*model_);
    const AnalysisResult r = kind == plan::AnalysisKind::Faithfulness ? faithfulness(context) : completeness(context);
    EXPECT_TRUE(r.value.has_value());
    return *r.value;
  }
  std::unique_ptr<HookedModel> model_;
  std::unique_ptr<EdgeGraph> graph_;
  testing::EdgeCase c_;
};

TEST_P(CircuitMeasures, FullGraphIsFaithfulAndEmptyCircuitIsNot) {
  for (bool kl : {false, true}) {
    if (kl) c_.analysis.metric.reset();
    EXPECT_NEAR(measure(plan::AnalysisKind::Faithfulness, graph_->edge_names()), 1.0, 1e-5) << kl;
    EXPECT_NEAR(measure(plan::AnalysisKind::Faithfulness, {}), 0.0, 1e-9) << kl;
    EXPECT_NEAR(measure(plan::AnalysisKind::Completeness, graph_->edge_names()), 1.0, 1e-9) << kl;
    EXPECT_NEAR(measure(plan::AnalysisKind::Completeness, {}), 0.0, 1e-5) << kl;
  }
}

TEST_P(CircuitMeasures, FaithfulnessIsTheNormalizedMetricOfTheCircuit) {
  // A circuit of every edge into the logits: m(C) is the run with every other edge ablated.
  const auto [first, count] = graph_->incoming(graph_->logits_receiver());
  std::vector<std::string> circuit;
  std::vector<std::uint8_t> outside(graph_->edge_count(), 1);
  for (std::size_t e = first; e < first + count; ++e) {
    circuit.push_back(graph_->edges()[e].name);
    outside[e] = 0;
  }
  c_.analysis.kind = plan::AnalysisKind::Faithfulness;
  c_.analysis.edges = circuit;
  const AnalysisResult r = faithfulness(c_.context(*model_));
  AblatedMetric metric(c_.context(*model_), *graph_);
  const double m_c = metric(outside);
  const double m_empty = metric(std::vector<std::uint8_t>(graph_->edge_count(), 1));
  EXPECT_NEAR(r.values.at("m_circuit"), m_c, 1e-6);
  EXPECT_NEAR(r.values.at("m_empty"), m_empty, 1e-6);
  EXPECT_NEAR(*r.value, (m_c - m_empty) / (metric.full() - m_empty), 1e-6);
  // Completeness of the same circuit: its own edges ablated.
  c_.analysis.kind = plan::AnalysisKind::Completeness;
  const AnalysisResult comp = completeness(c_.context(*model_));
  std::vector<std::uint8_t> inside(graph_->edge_count(), 0);
  for (std::size_t e = first; e < first + count; ++e) inside[e] = 1;
  EXPECT_NEAR(*comp.value, 1.0 - (metric(inside) - m_empty) / (metric.full() - m_empty), 1e-6);
}

TEST_P(CircuitMeasures, MinimalityIsTheSmallestNormalizedDrop) {
  // Three edges into the logits, in graph order (the order minimality reports them in).
  const std::vector<std::string> circuit = {"input->logits", graph_->edges()[graph_->edge_count() - 3].name,
                                            graph_->edges()[graph_->edge_count() - 2].name};
  c_.analysis.kind = plan::AnalysisKind::Minimality;
  c_.analysis.edges = circuit;
  const AnalysisResult r = minimality(c_.context(*model_));
  ASSERT_EQ(r.edges.names, circuit);
  const double lowest = *std::min_element(r.edges.values.begin(), r.edges.values.end());
  EXPECT_DOUBLE_EQ(*r.value, lowest);
  // Each value is (m(C) - m(C \ e)) / (m(full) - m(empty)).
  AblatedMetric metric(c_.context(*model_), *graph_);
  std::vector<std::uint8_t> ablated(graph_->edge_count(), 1);
  for (const auto& e : circuit) ablated[graph_->edge_index(e)] = 0;
  const double m_c = metric(ablated);
  const double m_empty = metric(std::vector<std::uint8_t>(graph_->edge_count(), 1));
  ablated[graph_->edge_index(circuit[0])] = 1;
  EXPECT_NEAR(r.edges.values[0], (m_c - metric(ablated)) / (metric.full() - m_empty), 1e-6);
  c_.analysis.edges.clear();
  EXPECT_THROW(minimality(c_.context(*model_)), std::invalid_argument);
}

TEST_P(CircuitMeasures, CurveOverEapRankingEndsAtTheFullGraph) {
  c_.analysis.kind = plan::AnalysisKind::Eap;
  const AnalysisResult eap = edge_attribution_patching(c_.context(*model_));
  c_.analysis.kind = plan::AnalysisKind::CircuitCurve;
  c_.analysis.edges = eap.edges.names;
  c_.analysis.edge_scores = eap.edges.values;
  const AnalysisResult r = circuit_curve(c_.context(*model_));
  const plan::Tensor& curve = r.tensors.at("curve");
  ASSERT_EQ(curve.data.size(), 10u);
  EXPECT_NEAR(curve.data.back(), 1.0, 1e-4);  // top 100% = the full graph
  EXPECT_EQ(r.tensors.at("percent").data.front(), 0.1f);
  // CPR and CMD from the curve (trapezoids over k as a fraction).
  double cpr = 0, cmd = 0;
  const auto& k = r.tensors.at("percent").data;
  for (std::size_t i = 1; i < 10; ++i) {
    const double w = (k[i] - k[i - 1]) / 100.0;
    cpr += w * (curve.data[i] + curve.data[i - 1]) / 2;
    cmd += w * (std::abs(1 - curve.data[i]) + std::abs(1 - curve.data[i - 1])) / 2;
  }
  EXPECT_NEAR(r.values.at("cpr"), cpr, 1e-4);
  EXPECT_NEAR(r.values.at("cmd"), cmd, 1e-4);
  EXPECT_DOUBLE_EQ(*r.value, r.values.at("cpr"));
  c_.analysis.edge_scores.pop_back();
  EXPECT_THROW(circuit_curve(c_.context(*model_)), std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Families, CircuitMeasures,
                         ::testing::Values(Family::Gpt2, Family::Llama, Family::GptNeoX, Family::AttnOnly),
                         testing::family_test_name);

TEST(CircuitMeasuresErrors, UnknownEdgeIsOneLineNamingTheMeasure) {
  const HookedModel model = testing::tiny_model(Family::AttnOnly);
  testing::EdgeCase c = testing::random_case(plan::AnalysisKind::Faithfulness, 2, 5, model.config().d_vocab, 2);
  c.analysis.name = "faith";
  c.analysis.edges = {"a0.h9->logits"};
  try {
    faithfulness(c.context(model));
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("faithfulness: unknown edge 'a0.h9->logits'"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace circuit::rt
