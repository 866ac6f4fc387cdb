// Analyses and claims in the plan IR: graph ids, the JSON round trip, the schema, what the
// validator rejects (ids out of range, backward edges, misaligned corrupt batches, claims
// without an experiment) and drop_dead's treatment of analyses and claimed experiments.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <sstream>

#include "compiler/optimize/drop_dead.h"
#include "compiler/plan/graph_ids.h"
#include "compiler/plan/plan_error.h"
#include "compiler/plan/plan_json.h"
#include "compiler/plan/validate_plan.h"
#include "json_schema_subset.h"

namespace circuit::plan {
namespace {

std::string read(const std::string& relative) {
  std::ifstream in(std::string(CIRCUIT_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

HookPlan seed() { return parse_plan(read("tests/fuzz/plan_json/corpus/valid_analyses.json")); }

std::string first_issue(const HookPlan& plan) {
  auto issues = check_plan(plan);
  return issues.empty() ? "" : issues[0].message();
}

TEST(GraphIds, ParseAndSpell) {
  for (const char* id : {"input", "logits", "a0.h0", "a12.h3", "a1.h2<k>", "m7"}) {
    auto node = parse_graph_node(id);
    ASSERT_TRUE(node) << id;
    EXPECT_EQ(graph_node_id(*node), id);
  }
  for (const char* id : {"", "a", "a1", "a1.h", "a01.h1", "a1.h2<x>", "a1.h2<k", "m", "m1.h2", "a-1.h0", "logit",
                         "a99999999999.h0"})
    EXPECT_FALSE(parse_graph_node(id)) << id;
  auto edge = parse_edge_id("a0.h1->a1.h2<k>");
  ASSERT_TRUE(edge);
  EXPECT_TRUE(edge_is_forward(edge->sender, edge->receiver));
  EXPECT_FALSE(edge_is_forward(*parse_graph_node("a1.h0"), *parse_graph_node("a1.h2<q>")));  // same layer
  EXPECT_TRUE(edge_is_forward(*parse_graph_node("a1.h0"), *parse_graph_node("m1")));
  EXPECT_FALSE(edge_is_forward(*parse_graph_node("m1"), *parse_graph_node("a1.h0<v>")));
  EXPECT_FALSE(edge_is_forward(*parse_graph_node("input"), *parse_graph_node("a1.h0")));  // no input named
}

TEST(PlanAnalyses, RoundTripAndSchema) {
  const HookPlan plan = seed();
  EXPECT_EQ(plan.analyses.size(), 7u);
  EXPECT_EQ(plan.claims.size(), 4u);
  EXPECT_EQ(plan_from_json(plan_to_json(plan)), plan);
  EXPECT_EQ(first_issue(plan), "");
  std::ifstream in(std::string(CIRCUIT_SOURCE_DIR) + "/schema/hookplan.schema.json");
  const auto errors = testing::schema_errors(nlohmann::json::parse(in), plan_to_json(plan));
  EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors[0]);
  EXPECT_THROW(plan_from_json([&] {
                 auto j = plan_to_json(plan);
                 j["analyses"][0]["kind"] = "telepathy";
                 return j;
               }()),
               PlanError);
}

// A normalized analysis metric names no passes: `"normalize": {}`, normalized against the
// analysis's own clean and corrupt runs. It round-trips, validates and fits the schema.
TEST(PlanAnalyses, AnAnalysisMetricNormalizesAgainstItsOwnRuns) {
  HookPlan plan = seed();
  ASSERT_TRUE(plan.analyses[1].metric);
  plan.analyses[1].metric->normalize = Normalize{};
  const nlohmann::json j = plan_to_json(plan);
  EXPECT_EQ(j["analyses"][1]["metric"]["normalize"], nlohmann::json::object());
  EXPECT_EQ(plan_from_json(j), plan);
  EXPECT_EQ(first_issue(plan), "");
  std::ifstream in(std::string(CIRCUIT_SOURCE_DIR) + "/schema/hookplan.schema.json");
  const auto errors = testing::schema_errors(nlohmann::json::parse(in), j);
  EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors[0]);
}

TEST(PlanAnalyses, ValidatorRejects) {
  struct Case {
    std::function<void(HookPlan&)> edit;
    std::string issue;
  };
  const std::vector<Case> cases = {
      {[](HookPlan& p) { p.analyses[1].nodes[0] = "a2.h0"; },
       "analyses[1].nodes[0]: 'a2.h0' is out of range (model has 2 layers, 4 heads, no MLPs)"},
      {[](HookPlan& p) { p.analyses[1].nodes[0] = "m0"; },
       "analyses[1].nodes[0]: 'm0' is out of range (model has 2 layers, 4 heads, no MLPs)"},
      {[](HookPlan& p) { p.analyses[2].receivers[0] = "a1.h2"; },
       "analyses[2].receivers[0]: 'a1.h2' cannot receive an edge (name a head's input: <q>, <k> or <v>)"},
      {[](HookPlan& p) { p.analyses[5].edges[0] = "a1.h2->a0.h1<k>"; },
       "analyses[5].edges[0]: 'a1.h2->a0.h1<k>': the receiver runs before the sender"},
      {[](HookPlan& p) { p.analyses[5].edges[1] = p.analyses[5].edges[0]; },
       "analyses[5].edges[1]: duplicate edge 'a0.h1->a1.h2<k>'"},
      {[](HookPlan& p) { p.analyses[5].edges[0] = "a0.h1"; }, "analyses[5].edges[0]: 'a0.h1' is not an edge (sender->receiver)"},
      {[](HookPlan& p) { p.batches[0].rows[1].push_back(5); },
       "analyses[2].corrupt_batch: row 1 has 6 tokens but the clean row has 7 (corrupt rows are patched position by "
       "position)"},
      {[](HookPlan& p) { p.analyses[2].corrupt_batch = ""; },
       "analyses[2].corrupt_batch: path_patching with ablation 'patch' needs a corrupt batch (or ablation 'mean')"},
      {[](HookPlan& p) { p.analyses[1].metric->answers.pop_back(); },
       "analyses[1].metric.answers: has 1 ids but batch 'pairs' has 2 rows"},
      {[](HookPlan& p) { p.analyses[1].metric->normalize = Normalize{"a", "b"}; },
       "analyses[1].metric.normalize: an analysis normalizes against its own clean and corrupt runs; name no passes"},
      {[](HookPlan& p) { p.analyses[1].metric.reset(); }, "analyses[1]: dla needs a metric"},
      {[](HookPlan& p) { p.analyses[0].top = 3; }, "analyses[0].top: not used by analysis kind 'previous_token_score'"},
      {[](HookPlan& p) { p.analyses[6].edge_scores.pop_back(); }, "analyses[6].edge_scores: has 1 scores for 2 edges"},
      {[](HookPlan& p) { p.analyses[1].batch = "nope"; }, "analyses[1].batch: no batch named 'nope'"},
      {[](HookPlan& p) { p.experiments[1].analyses[0] = "nope"; }, "experiments[1].analyses[0]: no analysis named 'nope'"},
      {[](HookPlan& p) { p.claims[0].experiment = "intact"; },
       "claims[0]: a claim reads exactly one of an experiment and a constant"},
      {[](HookPlan& p) { p.claims[1].experiment = "nope"; }, "claims[1].experiment: no experiment named 'nope'"},
      {[](HookPlan& p) { p.claims[1].comparator = "=>"; },
       "claims[1].comparator: '=>' is not a comparator (<, <=, >, >=, ==, !=)"},
      {[](HookPlan& p) { p.claims[2].name = p.claims[1].name; }, "claims[2].name: duplicate name 'expect.9'"},
  };
  for (const Case& c : cases) {
    HookPlan plan = seed();
    c.edit(plan);
    EXPECT_EQ(first_issue(plan), c.issue);
  }
}

TEST(PlanAnalyses, DropDeadKeepsClaimedExperimentsAndLiveAnalyses) {
  HookPlan plan = seed();
  for (Experiment& e : plan.experiments)
    if (e.name == "direct" || e.name == "expect.9") e.report = false;
  HookPlan out = drop_dead(plan, {});
  EXPECT_EQ(find_analysis(out, "direct"), nullptr);       // unreported, nobody claims it
  EXPECT_NE(find_analysis(out, "expect.9"), nullptr);     // a claim reads it
  EXPECT_NE(find_analysis(out, "prev_scores"), nullptr);
  EXPECT_EQ(out.batches.size(), plan.batches.size());     // analyses keep their batches
  EXPECT_EQ(first_issue(out), "");
}

}  // namespace
}  // namespace circuit::plan
