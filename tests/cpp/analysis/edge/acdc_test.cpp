// ACDC: threshold 0 keeps every edge that matters (the pruned graph's KL to the full model stays
// 0), a huge threshold prunes everything, the reported metric is that of the kept circuit,
// induction-2l's circuit keeps the induction path, and graphs too large are refused.
#include "runtime/analysis/acdc.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>

#include "runtime/analysis/circuit_measures.h"
#include "tests/cpp/analysis/edge/edge_fixtures.h"
#include "tests/cpp/runtime/tiny_models.h"

namespace circuit::rt {
namespace {

using formats::Family;

class AcdcOnTinyModels : public ::testing::TestWithParam<Family> {};

TEST_P(AcdcOnTinyModels, ThresholdZeroKeepsEveryEdgeThatMatters) {
  const HookedModel model = testing::tiny_model(GetParam());
  const EdgeGraph graph(model.config());
  testing::EdgeCase c = testing::random_case(plan::AnalysisKind::Acdc, 3, 6, model.config().d_vocab, 8);
  c.analysis.metric.reset();  // KL to the full model
  c.analysis.threshold = 0.0;
  const AnalysisResult r = acdc(c.context(model));
  ASSERT_EQ(r.edges.names, graph.edge_names());
  // Only removals that leave the output as close to the full model's or closer are accepted.
  EXPECT_LE(r.values.at("metric_circuit"), 1e-6);
  // The kept circuit, measured afresh, is the full model: KL 0, faithfulness 1.
  c.analysis.kind = plan::AnalysisKind::Faithfulness;
  c.analysis.edges = r.circuit;
  const AnalysisResult f = faithfulness(c.context(model));
  EXPECT_NEAR(f.values.at("m_circuit"), r.values.at("metric_circuit"), 1e-6);
  EXPECT_NEAR(*f.value, 1.0, 1e-4);
  // Every edge whose removal from the kept circuit moves the output is in it.
  AblatedMetric metric(c.context(model), graph);
  std::vector<std::uint8_t> ablated(graph.edge_count(), 1);
  for (const auto& e : r.circuit) ablated[graph.edge_index(e)] = 0;
  for (std::size_t e = 0; e < graph.edge_count(); ++e) {
    if (!ablated[e]) continue;
    ablated[e] = 0;  // adding a pruned edge back changes nothing either
    EXPECT_LE(metric(ablated), 1e-5) << graph.edges()[e].name;
    ablated[e] = 1;
  }
}

TEST(Acdc, TaskMetricWithThresholdZeroKeepsEverything) {
  const HookedModel model = testing::tiny_model(Family::Gpt2);
  testing::EdgeCase c = testing::random_case(plan::AnalysisKind::Acdc, 2, 6, model.config().d_vocab, 8);
  c.analysis.threshold = 0.0;  // |change| < 0 never holds
  const AnalysisResult r = acdc(c.context(model));
  EXPECT_EQ(r.circuit.size(), r.edges.names.size());
  EXPECT_DOUBLE_EQ(r.values.at("metric_circuit"), r.values.at("metric_full"));
}

TEST_P(AcdcOnTinyModels, HugeThresholdPrunesEverything) {
  const HookedModel model = testing::tiny_model(GetParam());
  testing::EdgeCase c = testing::random_case(plan::AnalysisKind::Acdc, 2, 6, model.config().d_vocab, 8);
  c.analysis.threshold = 1e9;
  const AnalysisResult r = acdc(c.context(model));
  EXPECT_TRUE(r.circuit.empty());
  // Only the edges into the logits and into nodes that still had outputs were tested: once
  // every edge into the logits is gone, no node is alive.
  const EdgeGraph graph(model.config());
  EXPECT_EQ(r.values.at("edges_tested"), static_cast<double>(graph.incoming(graph.logits_receiver()).second));
  c.analysis.kind = plan::AnalysisKind::Faithfulness;
  c.analysis.edges = {};
  const AnalysisResult f = faithfulness(c.context(model));
  EXPECT_NEAR(r.values.at("metric_circuit"), f.values.at("m_empty"), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Families, AcdcOnTinyModels,
                         ::testing::Values(Family::Gpt2, Family::Llama, Family::GptNeoX, Family::AttnOnly),
                         testing::family_test_name);

TEST(Acdc, KeepsTheInductionPathOfInduction2l) {
  const HookedModel model = testing::induction_model();
  testing::EdgeCase c = testing::induction_case(plan::AnalysisKind::Acdc, 8, 12, 21);
  c.analysis.threshold = 0.05;
  const AnalysisResult r = acdc(c.context(model));
  std::cout << "[ measured ] induction-2l ACDC (|change of logprob| < 0.05): kept " << r.circuit.size() << " of "
            << r.edges.names.size() << " edges; metric full " << r.values.at("metric_full") << ", circuit "
            << r.values.at("metric_circuit") << ":";
  for (const auto& e : r.circuit) std::cout << " " << e;
  std::cout << "\n";
  EXPECT_LT(r.circuit.size(), r.edges.names.size() / 2);
  auto kept = [&](const std::string& e) { return std::find(r.circuit.begin(), r.circuit.end(), e) != r.circuit.end(); };
  EXPECT_TRUE(kept("a0.h0->a1.h0<k>") || kept("a0.h0->a1.h1<k>") || kept("a0.h0->a1.h3<k>"));
  EXPECT_TRUE(kept("a1.h0->logits") || kept("a1.h1->logits") || kept("a1.h3->logits"));
  // Its change record is |change| when tested: non-negative, and large for the kept edges.
  for (double v : r.edges.values) EXPECT_GE(v, 0.0);
}

TEST(Acdc, RefusesGraphsOfMoreThanAFewThousandEdges) {
  // 4 layers of 16 heads: 4,865 edges.
  formats::ModelConfig config = testing::tiny_config(Family::AttnOnly);
  config.name = "wide";
  config.n_layers = 4;
  config.n_heads = config.n_kv_heads = 16;
  config.d_model = 16;
  config.d_head = 2;
  WeightMap w;
  const std::int64_t d = config.d_model, hd = config.n_heads * config.d_head;
  w["embed"] = at::randn({config.d_vocab, d});
  w["pos_embed"] = at::randn({config.n_ctx, d});
  for (int l = 0; l < config.n_layers; ++l) {
    const std::string p = "blocks." + std::to_string(l) + ".";
    for (const char* m : {"q", "k", "v"}) {
      w[p + m + ".w"] = at::randn({hd, d});
      w[p + m + ".b"] = at::randn({hd});
    }
    w[p + "o.w"] = at::randn({d, hd});
    w[p + "o.b"] = at::randn({d});
  }
  w["unembed.w"] = at::randn({config.d_vocab, d});
  w["unembed.b"] = at::randn({config.d_vocab});
  const HookedModel model = HookedModel::from_weights(config, std::move(w));
  EXPECT_EQ(EdgeGraph(config).edge_count(), 4865u);
  testing::EdgeCase c = testing::random_case(plan::AnalysisKind::Acdc, 2, 6, config.d_vocab, 8);
  try {
    acdc(c.context(model));
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("the graph of wide has 4865 edges"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace circuit::rt
