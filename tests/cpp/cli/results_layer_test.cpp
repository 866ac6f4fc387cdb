// The results layer of `circuit run` on hand-made plans and results: what is recorded for the
// next lowering stage, how sweeps become dense tensors, and the circuit document of a run.
#include <gtest/gtest.h>

#include <cmath>

#include "compiler/interchange/validate_document.h"
#include "run/measurements.h"
#include "run/results_writer.h"
#include "run/run_document.h"
#include "run/summary.h"

namespace circuit::cli::run {
namespace {

plan::HookPlan two_experiments() {
  plan::HookPlan p;
  p.model = {"toy", "attn-only", 2, 4, 4, 64, 16, 0, 128, 64};
  p.batches.push_back({"clean", {{0, 65, 66, 65}}, plan::PadSide::Right, true});
  p.experiments.push_back({"effects", "activation_patching", {}, {"effects.sweep"}, true, {}});
  p.experiments.push_back({"found", "eap", {}, {}, true, {"found"}});
  p.experiments.push_back({"lp", "measure", {"lp", "lp.ref"}, {}, true, {}});
  plan::Analysis faith;
  faith.name = "expect.9";
  faith.kind = plan::AnalysisKind::Faithfulness;
  faith.batch = "clean";
  faith.edges = {"a0.h1->a1.h2<k>", "a1.h2->logits", "input->a1.h2<v>"};
  p.analyses.push_back(faith);
  p.claims.push_back({"expect.9", "faithfulness(c on t)", ">=", 0.8, "expect.9", std::nullopt, "f.circuit:9:1"});
  return p;
}

rt::PlanResults two_results() {
  rt::PlanResults r;
  rt::SweepResult s{"effects.sweep", "blocks.{layer}.attn.hook_z", "m", {}};
  // Layer 1 head 2 swept at two positions: the larger |value| is the node's score.
  s.items.push_back({0, 1, 2, 3, 0.25});
  s.items.push_back({1, 1, 2, 5, -0.75});
  s.items.push_back({2, 0, 1, 3, 0.5});
  r.sweeps.push_back(s);
  rt::AnalysisResult eap;
  eap.name = "found";
  eap.kind = plan::AnalysisKind::Eap;
  eap.edges = {{"a0.h1->a1.h2<k>", "a0.h0->logits"}, {1.5, 0.01}};
  eap.circuit = {"a0.h1->a1.h2<k>"};
  r.analyses.push_back(eap);
  rt::AnalysisResult faith;
  faith.name = "expect.9";
  faith.kind = plan::AnalysisKind::Faithfulness;
  faith.value = 0.9;
  r.analyses.push_back(faith);
  rt::PassResult lp{"lp", {{"m", plan::MetricKind::Logprob, {-1.0, -2.0}, -1.5}}, {}, {}};
  r.passes.push_back(lp);
  r.claims.push_back({"expect.9", "faithfulness(c on t)", ">=", 0.8, 0.9, true, "f.circuit:9:1"});
  return r;
}

TEST(Measurements, RecordsScoresCircuitsValuesAndDone) {
  compiler::MeasuredValues m;
  record_measurements(two_experiments(), two_results(), m);
  EXPECT_DOUBLE_EQ(m.scores.at("effects").at("a1.h2"), -0.75);
  EXPECT_DOUBLE_EQ(m.scores.at("effects").at("a0.h1"), 0.5);
  EXPECT_EQ(m.circuits.at("found"), std::vector<std::string>{"a0.h1->a1.h2<k>"});
  EXPECT_DOUBLE_EQ(m.edge_scores.at("found").at("a0.h0->logits"), 0.01);
  EXPECT_DOUBLE_EQ(m.values.at("lp"), -1.5);
  EXPECT_DOUBLE_EQ(m.values.at("expect.9"), 0.9);  // not listed by an experiment: its own name
  for (const char* name : {"effects", "found", "lp", "expect.9"}) EXPECT_TRUE(m.done.count(name)) << name;
}

TEST(Measurements, SweepItemNodes) {
  rt::SweepItemResult head{0, 3, 1, std::nullopt, 0};
  rt::SweepItemResult layer{0, 2, std::nullopt, std::nullopt, 0};
  EXPECT_EQ(sweep_item_node("blocks.{layer}.attn.hook_z", head), "a3.h1");
  EXPECT_EQ(sweep_item_node("blocks.{layer}.hook_mlp_out", layer), "m2");
  EXPECT_EQ(sweep_item_node("blocks.{layer}.hook_resid_pre", layer), "resid2");
  EXPECT_FALSE(sweep_item_node("hook_embed", rt::SweepItemResult{}));
  EXPECT_EQ(component_name("a3.h1"), "head 3.1");
  EXPECT_EQ(component_name("m2"), "mlp 2");
  EXPECT_EQ(component_name("a3.h1<k>"), "a3.h1<k>");
}

TEST(ResultsTensors, SweepIsDenseOverLayersHeadsAndPositions) {
  RunOutcome outcome;
  outcome.stages.push_back({two_experiments(), two_results(), 0});
  auto tensors = results_tensors(outcome);
  ASSERT_TRUE(tensors.count("effects/scores"));
  const auto& t = tensors.at("effects/scores");
  EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 4, 2}));  // positions 3 and 5
  EXPECT_FLOAT_EQ(t.data[(1 * 4 + 2) * 2 + 0], 0.25f);
  EXPECT_FLOAT_EQ(t.data[(1 * 4 + 2) * 2 + 1], -0.75f);
  EXPECT_FLOAT_EQ(t.data[(0 * 4 + 1) * 2 + 0], 0.5f);
  EXPECT_TRUE(std::isnan(t.data[0]));  // not swept
}

// The context of a run on a 2-layer, 4-head attention-only model of induction.circuit.
RunContext toy_context() {
  RunContext context;
  context.source_path = CIRCUIT_SOURCE_DIR "/examples/induction.circuit";
  context.model.name = "toy";
  context.model.config.family = formats::Family::AttnOnly;
  context.model.config.n_layers = 2;
  context.model.config.n_heads = 4;
  context.model.config.n_kv_heads = 4;
  return context;
}

TEST(RunDocument, HoldsTheMeasuredAndDiscoveredCircuitsAndValidates) {
  RunOutcome outcome;
  outcome.stages.push_back({two_experiments(), two_results(), 0});
  record_measurements(outcome.stages[0].plan, outcome.stages[0].results, outcome.measured);
  outcome.claims = outcome.stages[0].results.claims;
  outcome.unmeasured.push_back({"expect.10", "count(x)", ">=", "2", "f.circuit:10:1"});
  RunContext context = toy_context();
  context.decode = [](const std::vector<std::int32_t>& ids) {
    std::string s;
    for (auto id : ids)
      if (id > 0) s += static_cast<char>(id);
    return s;
  };
  auto doc = build_run_document(outcome, context, "toy_run", std::string(64, 'a'));
  EXPECT_NO_THROW(interchange::validate_document(doc));
  std::vector<std::string> edges;
  for (const auto& e : doc.edges) edges.push_back(e.id);
  EXPECT_EQ(edges, (std::vector<std::string>{"a0.h1->a1.h2<k>", "a1.h2->logits", "input->a1.h2<v>"}));
  EXPECT_DOUBLE_EQ(*doc.edges[0].score, 1.5);  // the discovery's score
  EXPECT_EQ(doc.nodes.front().id, "input");
  EXPECT_EQ(doc.nodes.back().id, "logits");
  ASSERT_TRUE(doc.task && !doc.task->prompts.empty());
  EXPECT_EQ(doc.task->prompts[0], "ABA");
  ASSERT_EQ(doc.claims.size(), 2u);
  EXPECT_EQ(*doc.claims[0].measured, 0.9);
  EXPECT_EQ(*doc.claims[0].conditions->model, "toy");
  EXPECT_FALSE(doc.claims[1].measured);  // written but never measured
  EXPECT_EQ(doc.claims[1].threshold, 2.0);
}

// A CPR curve ranks every edge its discovery scored; those candidates are not a circuit, so the
// document keeps only the circuits' edges and notes which of them the curve ranked.
TEST(RunDocument, CurveCandidatesAreNotCircuitEdges) {
  RunOutcome outcome;
  outcome.stages.push_back({two_experiments(), two_results(), 0});
  plan::Analysis curve;
  curve.name = "expect.12";
  curve.kind = plan::AnalysisKind::CircuitCurve;
  curve.batch = "clean";
  curve.edges = {"a0.h1->a1.h2<k>", "a0.h0->logits"};
  curve.edge_scores = {1.5, 0.01};
  outcome.stages[0].plan.analyses.push_back(curve);
  record_measurements(outcome.stages[0].plan, outcome.stages[0].results, outcome.measured);
  RunContext context = toy_context();
  auto doc = build_run_document(outcome, context, "toy_run", std::string(64, 'a'));
  std::vector<std::string> edges;
  for (const auto& e : doc.edges) edges.push_back(e.id);
  EXPECT_EQ(edges, (std::vector<std::string>{"a0.h1->a1.h2<k>", "a1.h2->logits", "input->a1.h2<v>"}));
  ASSERT_TRUE(doc.edges[0].extensions && doc.edges[1].extensions);
  const auto from = (*doc.edges[0].extensions)["circuitry"]["from"].get<std::vector<std::string>>();
  EXPECT_EQ(from, (std::vector<std::string>{"expect.12", "expect.9", "found"}));
  EXPECT_EQ((*doc.edges[1].extensions)["circuitry"]["from"].get<std::vector<std::string>>(), std::vector<std::string>{"expect.9"});
}

}  // namespace
}  // namespace circuit::cli::run
