// EAP and EAP-IG: a signed score for every edge of the full graph that tracks the true effect
// of ablating that edge alone (correlation on tiny models of every family), a cost of at most
// four forward equivalents for EAP (less where the prompts share a prefix), the top-k circuit,
// and the induction circuit of induction-2l (previous-token head -> induction head's key,
// induction head -> logits).
#include "runtime/analysis/eap.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>

#include "runtime/exec/metric.h"
#include "runtime/exec/plan_tensors.h"
#include "tests/cpp/analysis/edge/edge_fixtures.h"
#include "tests/cpp/runtime/tiny_models.h"

namespace circuit::rt {
namespace {

using formats::Family;

class EapOnTinyModels : public ::testing::TestWithParam<Family> {};

TEST_P(EapOnTinyModels, ScoresTrackTheTrueEffectOfAblatingEachEdge) {
  const HookedModel model = testing::tiny_model(GetParam());
  const EdgeGraph graph(model.config());
  testing::EdgeCase c = testing::random_case(plan::AnalysisKind::Eap, 4, 8, model.config().d_vocab, 5, {-2});
  const std::vector<double> truth = testing::single_edge_effects(c.context(model), graph);

  const AnalysisResult eap = edge_attribution_patching(c.context(model));
  ASSERT_EQ(eap.edges.names, graph.edge_names());
  const double r_eap = testing::correlation(eap.edges.values, truth);
  c.analysis.kind = plan::AnalysisKind::EapIg;
  const AnalysisResult ig = edge_attribution_patching(c.context(model));
  const double r_ig = testing::correlation(ig.edges.values, truth);
  std::cout << "[ measured ] " << formats::family_name(GetParam()) << ": correlation with single-edge ablation: EAP "
            << r_eap << ", EAP-IG " << r_ig << "\n";
  // Random weights (std 0.3) make these tiny models far from linear; the exact check of the
  // gradient is GradientIsTheDerivativeAlongTheAblation.
  EXPECT_GT(r_eap, 0.6);
  EXPECT_GT(r_ig, 0.6);
}

TEST_P(EapOnTinyModels, GradientIsTheDerivativeAlongTheAblation) {
  // EAP's score of s -> r is d m / d alpha at alpha = 0, where r reads
  // input_r - alpha (clean_s - ablated_s): a forward with that edge ablated towards the
  // sender value clean_s + alpha (ablated_s - clean_s). Central differences must agree.
  const HookedModel model = testing::tiny_model(GetParam());
  const EdgeGraph graph(model.config());
  const testing::EdgeCase c = testing::random_case(plan::AnalysisKind::Eap, 3, 7, model.config().d_vocab, 6, {-2});
  const AnalysisResult eap = edge_attribution_patching(c.context(model));
  const TokenBatch clean = to_token_batch(c.clean, model.config());
  const TokenBatch corrupt = to_token_batch(c.corrupt, model.config());
  GraphForwardRequest record;
  record.record_senders = true;
  const at::Tensor clean_outputs = graph_forward(model, graph, clean, record).sender_outputs;
  const at::Tensor corrupt_outputs = graph_forward(model, graph, corrupt, record).sender_outputs;
  auto metric_at = [&](std::size_t edge, double alpha) {
    GraphForwardRequest request;
    request.ablated.assign(graph.edge_count(), 0);
    request.ablated[edge] = 1;
    request.ablated_outputs = clean_outputs + (corrupt_outputs - clean_outputs) * alpha;
    const at::Tensor logits = graph_forward(model, graph, clean, request).logits;
    return metric_per_row(logits, clean, *c.analysis.metric, {}, at::Tensor()).to(at::kDouble).mean().item<double>();
  };
  double largest = 0.0;
  for (double v : eap.edges.values) largest = std::max(largest, std::abs(v));
  const double h = 1e-2;
  for (std::size_t e = 0; e < graph.edge_count(); e += 3) {
    const double derivative = (metric_at(e, h) - metric_at(e, -h)) / (2 * h);
    EXPECT_NEAR(eap.edges.values[e], derivative, 2e-3 * largest + 1e-3) << graph.edges()[e].name;
  }
}

TEST_P(EapOnTinyModels, CostsAtMostFiveForwardEquivalents) {
  const HookedModel model = testing::tiny_model(GetParam());
  // Prompts of 6 tokens whose corrupt versions first differ at column 3: columns 0..2 once,
  // then the corrupt forward and the clean forward and backward over columns 3..5.
  testing::EdgeCase c = testing::random_case(plan::AnalysisKind::Eap, 2, 6, model.config().d_vocab, 3);
  EXPECT_DOUBLE_EQ(edge_attribution_patching(c.context(model)).values.at("forward_equivalents"), 0.5 + 0.5 + 1.5);
  c.analysis.kind = plan::AnalysisKind::EapIg;
  c.analysis.steps = 3;
  EXPECT_DOUBLE_EQ(edge_attribution_patching(c.context(model)).values.at("forward_equivalents"),
                   0.5 + 0.5 + 0.5 + 3 * 1.5);  // prefix, corrupt, clean, 3 steps of forward and backward
  c.analysis.kind = plan::AnalysisKind::Eap;
  // Prompts that differ at the first column: no common prefix, a corrupt forward and a clean
  // forward and backward over everything.
  testing::EdgeCase first = testing::random_case(plan::AnalysisKind::Eap, 2, 6, model.config().d_vocab, 3, {0});
  EXPECT_DOUBLE_EQ(edge_attribution_patching(first.context(model)).values.at("forward_equivalents"), 4);
  c.analysis.ablation = plan::Ablation::Mean;
  c.has_corrupt = false;
  EXPECT_EQ(edge_attribution_patching(c.context(model)).values.at("forward_equivalents"), 3);
  c.analysis.ablation = plan::Ablation::Zero;
  EXPECT_EQ(edge_attribution_patching(c.context(model)).values.at("forward_equivalents"), 3);
  c.analysis.kind = plan::AnalysisKind::EapIg;
  c.analysis.steps = 3;
  const AnalysisResult ig = edge_attribution_patching(c.context(model));
  EXPECT_EQ(ig.values.at("forward_equivalents"), 1 + 3 * 3);
  EXPECT_EQ(ig.values.at("steps"), 3);
}

INSTANTIATE_TEST_SUITE_P(Families, EapOnTinyModels,
                         ::testing::Values(Family::Gpt2, Family::Llama, Family::GptNeoX, Family::AttnOnly),
                         testing::family_test_name);

TEST(Eap, EdgesIntoTheLogitsOfALinearReadoutAreExact) {
  // Without a final norm the logits are linear in the final residual, and so is a logit
  // difference: the gradient there is constant, and EAP's (and EAP-IG's) score of every edge
  // into the logits is the true effect of ablating it, up to float error.
  const HookedModel model = testing::tiny_model(Family::AttnOnly);
  const EdgeGraph graph(model.config());
  testing::EdgeCase c = testing::random_case(plan::AnalysisKind::Eap, 3, 6, model.config().d_vocab, 9);
  const std::vector<double> truth = testing::single_edge_effects(c.context(model), graph);
  const AnalysisResult eap = edge_attribution_patching(c.context(model));
  c.analysis.kind = plan::AnalysisKind::EapIg;
  c.analysis.steps = 4;
  const AnalysisResult ig = edge_attribution_patching(c.context(model));
  const auto [first, count] = graph.incoming(graph.logits_receiver());
  double largest = 0.0;
  for (std::size_t e = first; e < first + count; ++e) {
    largest = std::max(largest, std::abs(truth[e]));
    EXPECT_NEAR(eap.edges.values[e], truth[e], 1e-3 + 1e-4 * std::abs(truth[e])) << graph.edges()[e].name;
    EXPECT_NEAR(ig.edges.values[e], truth[e], 1e-3 + 1e-4 * std::abs(truth[e])) << graph.edges()[e].name;
  }
  EXPECT_GT(largest, 0.05);  // the edges do carry something
  EXPECT_TRUE(eap.circuit.empty());  // no circuit unless `top` asks for one
}

TEST(Eap, ChunksOfRowsGiveTheSameScores) {
  // A memory budget too small for one row cuts the batch into single rows: each a complete
  // EAP, summed. Mean ablation still takes its mean over every row.
  const HookedModel model = testing::tiny_model(Family::Gpt2);
  for (plan::Ablation ablation : {plan::Ablation::Patch, plan::Ablation::Mean}) {
    testing::EdgeCase c = testing::random_case(plan::AnalysisKind::Eap, 3, 6, model.config().d_vocab, 12);
    c.analysis.ablation = ablation;
    c.has_corrupt = ablation == plan::Ablation::Patch;
    c.options.memory_budget_bytes = 0;
    const AnalysisResult whole = edge_attribution_patching(c.context(model));
    c.options.memory_budget_bytes = 1;
    const AnalysisResult chunked = edge_attribution_patching(c.context(model));
    EXPECT_EQ(chunked.values.at("row_chunks"), 3);
    EXPECT_FALSE(whole.values.count("row_chunks"));
    // Patch: per chunk as a whole (half the columns are a common prefix); Mean: one more
    // forward for the mean over every row.
    EXPECT_NEAR(chunked.values.at("forward_equivalents"), ablation == plan::Ablation::Patch ? 2.5 : 4, 1e-9);
    EXPECT_NEAR(whole.values.at("forward_equivalents"), ablation == plan::Ablation::Patch ? 2.5 : 3, 1e-9);
    EXPECT_NEAR(chunked.values.at("metric_clean"), whole.values.at("metric_clean"), 1e-5);
    for (std::size_t i = 0; i < whole.edges.values.size(); ++i)
      EXPECT_NEAR(chunked.edges.values[i], whole.edges.values[i], 1e-4 + 1e-4 * std::abs(whole.edges.values[i]))
          << whole.edges.names[i] << " " << plan::ablation_name(ablation);
  }
}

TEST(Eap, TopEdgesByMagnitudeFormTheCircuit) {
  const HookedModel model = testing::tiny_model(Family::Gpt2);
  testing::EdgeCase c = testing::random_case(plan::AnalysisKind::Eap, 2, 6, model.config().d_vocab, 4);
  c.analysis.top = 7;
  const AnalysisResult r = edge_attribution_patching(c.context(model));
  ASSERT_EQ(r.circuit.size(), 7u);
  std::vector<double> magnitudes;
  for (double v : r.edges.values) magnitudes.push_back(std::abs(v));
  std::sort(magnitudes.rbegin(), magnitudes.rend());
  for (const auto& name : r.circuit) {
    const auto at = std::find(r.edges.names.begin(), r.edges.names.end(), name) - r.edges.names.begin();
    EXPECT_GE(std::abs(r.edges.values[at]), magnitudes[6]) << name;
  }
  ASSERT_TRUE(r.tensors.count("scores"));
  EXPECT_EQ(r.tensors.at("scores").shape, std::vector<std::int64_t>{static_cast<std::int64_t>(r.edges.values.size())});
}

TEST(Eap, RefusesWhatItCannotRun) {
  const HookedModel model = testing::tiny_model(Family::AttnOnly);
  testing::EdgeCase c = testing::random_case(plan::AnalysisKind::Eap, 2, 6, model.config().d_vocab, 4);
  c.has_corrupt = false;
  try {
    edge_attribution_patching(c.context(model));
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("patch ablation needs corrupt prompts"), std::string::npos) << e.what();
  }
  c.has_corrupt = true;
  c.analysis.metric.reset();
  EXPECT_THROW(edge_attribution_patching(c.context(model)), std::invalid_argument);
}

TEST(Eap, FindsTheInductionCircuitOfInduction2l) {
  const HookedModel model = testing::induction_model();
  const EdgeGraph graph(model.config());
  testing::EdgeCase c = testing::induction_case(plan::AnalysisKind::Eap, 8, 12, 21);
  c.analysis.top = 10;
  const auto start = std::chrono::steady_clock::now();
  const AnalysisResult r = edge_attribution_patching(c.context(model));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "[ measured ] induction-2l EAP: " << seconds << " s, " << r.values.at("forward_equivalents")
            << " forward equivalents; clean " << r.values.at("metric_clean") << ", corrupt "
            << r.values.at("metric_corrupt") << "; top:";
  for (const auto& e : r.circuit) std::cout << " " << e;
  std::cout << "\n";
  EXPECT_GT(r.values.at("metric_clean"), r.values.at("metric_corrupt") + 1.0);
  // The previous-token head (a0.h0) feeds an induction head's key, and an induction head
  // (a1.h0, a1.h1, a1.h3) writes to the logits.
  auto in_top = [&](const std::vector<std::string>& any) {
    return std::any_of(any.begin(), any.end(), [&](const std::string& e) {
      return std::find(r.circuit.begin(), r.circuit.end(), e) != r.circuit.end();
    });
  };
  EXPECT_TRUE(in_top({"a0.h0->a1.h0<k>", "a0.h0->a1.h1<k>", "a0.h0->a1.h3<k>"}));
  EXPECT_TRUE(in_top({"a1.h0->logits", "a1.h1->logits", "a1.h3->logits"}));
  // And EAP still tracks the true single-edge effects on a trained model.
  const double r_eap = testing::correlation(r.edges.values, testing::single_edge_effects(c.context(model), graph));
  std::cout << "[ measured ] induction-2l EAP correlation with single-edge ablation: " << r_eap << "\n";
  EXPECT_GT(r_eap, 0.7);
}

}  // namespace
}  // namespace circuit::rt
