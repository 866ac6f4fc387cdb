// Staged lowering (compiler/lower/lower.h with MeasuredValues): selectors, top(), circuit edges
// and claims once their measurements are known, and the examples lowered to completion by a
// stand-in for `circuit run`'s driver that records made-up measurements the way the real one
// records results.
#include <gtest/gtest.h>

#include <algorithm>

#include "compiler/check/model_provider.h"
#include "compiler/driver/compilation.h"
#include "compiler/lower/lower.h"
#include "compiler/lower/measured_values_json.h"
#include "compiler/optimize/optimize_plan.h"
#include "compiler/plan/graph_ids.h"
#include "compiler/plan/plan_json.h"
#include "compiler/plan/validate_plan.h"

namespace circuit::compiler {
namespace {

const std::string kRoot = CIRCUIT_SOURCE_DIR;

std::unique_ptr<Compilation> compile(const std::string& path, const std::string* text = nullptr) {
  static FolderModelProvider models(kRoot + "/models");
  CompileOptions options;
  options.load.search_path = {kRoot + "/stdlib"};
  options.models = &models;
  auto c = text ? check_text(path, *text, options) : check_file(path, options);
  for (const auto& d : c->diagnostics.all()) EXPECT_NE(d.severity, Severity::Error) << d.code << " " << d.message;
  return c;
}

int warnings(const Diagnostics& d, const std::string& code) {
  return static_cast<int>(std::count_if(d.all().begin(), d.all().end(), [&](const auto& x) { return x.code == code; }));
}

const plan::Claim* claim(const plan::HookPlan& p, const std::string& expression) {
  for (const auto& c : p.claims)
    if (c.expression == expression) return &c;
  return nullptr;
}

const std::string kInduction = R"(model "induction-2l"
task rep {
  random_tokens: 3
  count: 2
  seed: 0
}
let prev_scores = previous_token_score(rep)
let effects = dla(rep)
let prev_heads = heads 0.* where prev_scores > 0.4
let big = top(effects, 2)
circuit induction {
  prev_heads -> big.k
  big -> logits
}
expect count(prev_heads) >= 2
expect faithfulness(induction on rep, metric: logprob) >= 0.8
)";

TEST(LowerStages, SelectorsWaitForTheirScores) {
  auto c = compile("stages.circuit", &kInduction);
  Diagnostics d;
  plan::HookPlan first = lower_program(*c, d);
  EXPECT_EQ(first.analyses.size(), 2u);  // prev_scores and effects
  EXPECT_TRUE(first.claims.empty());
  EXPECT_EQ(warnings(d, "W050"), 2);
  Diagnostics quiet;
  lower_program(*c, quiet, {}, /*report_pending=*/false);
  EXPECT_EQ(warnings(quiet, "W050"), 0);
}

TEST(LowerStages, WhereTopCircuitAndClaimsAfterMeasurement) {
  auto c = compile("stages.circuit", &kInduction);
  MeasuredValues m;
  m.scores["prev_scores"] = {{"a0.h0", 0.5}, {"a0.h1", 0.2}, {"a0.h2", 0.41}, {"a0.h3", 0.4}};
  // DLA ranks by magnitude: a1.h3 (-0.9) and a1.h1 (0.7) beat a1.h0 (0.3).
  m.scores["effects"] = {{"a1.h0", 0.3}, {"a1.h1", 0.7}, {"a1.h2", 0.1}, {"a1.h3", -0.9}};
  m.done = {"prev_scores", "effects"};
  Diagnostics d;
  plan::HookPlan p = lower_program(*c, d, m);
  EXPECT_EQ(warnings(d, "W050"), 0);
  plan::validate_plan(p);
  const plan::Claim* count = claim(p, "count(prev_heads)");
  ASSERT_TRUE(count && count->constant);
  EXPECT_EQ(*count->constant, 2.0);  // a0.h0 and a0.h2 (> 0.4 is strict)
  const plan::Claim* faithful = claim(p, "faithfulness(induction on rep, metric: logprob)");
  ASSERT_TRUE(faithful);
  const plan::Analysis* a = plan::find_analysis(p, faithful->experiment);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->kind, plan::AnalysisKind::Faithfulness);
  EXPECT_EQ(a->ablation, plan::Ablation::Mean);  // random tokens have no corrupt prompts
  std::vector<std::string> expected = {"a0.h0->a1.h1<k>", "a0.h0->a1.h3<k>", "a0.h2->a1.h1<k>",
                                       "a0.h2->a1.h3<k>", "a1.h1->logits",   "a1.h3->logits"};
  EXPECT_EQ(a->edges, expected);
  // Nothing already run is lowered again.
  EXPECT_EQ(plan::find_analysis(p, "prev_scores"), nullptr);
}

TEST(LowerStages, DetectorsRankBySignedScore) {
  const std::string text = R"(model "induction-2l"
task rep {
  random_tokens: 3
  count: 2
}
let s = induction_score(rep)
circuit best = top(s, 1)
expect count(top(s, 1) & head 1.1) == 1
expect minimality(best on rep, metric: logprob) > 0
)";
  auto c = compile("rank.circuit", &text);
  MeasuredValues m;
  m.scores["s"] = {{"a1.h0", -0.99}, {"a1.h1", 0.6}};
  m.done = {"s"};
  Diagnostics d;
  plan::HookPlan p = lower_program(*c, d, m);
  ASSERT_EQ(p.claims.size(), 2u);
  EXPECT_EQ(p.claims[0].constant, 1.0);  // a1.h1: a detector's top is its highest score, not |score|
  const plan::Analysis* minimal = plan::find_analysis(p, p.claims[1].experiment);
  ASSERT_TRUE(minimal);
  EXPECT_EQ(minimal->nodes, std::vector<std::string>{"a1.h1"});  // a circuit of one lone node
  EXPECT_TRUE(minimal->edges.empty());
}

TEST(LowerStages, MeasuredValuesJsonRoundTrips) {
  MeasuredValues m;
  m.scores["s"] = {{"a0.h1", 0.5}};
  m.circuits["c"] = {"a0.h1->logits"};
  m.edge_scores["c"] = {{"a0.h1->logits", 0.25}};
  m.values["v"] = -1.5;
  m.done = {"s", "c", "v"};
  MeasuredValues back = measured_from_json(measured_to_json(m));
  EXPECT_EQ(back.scores, m.scores);
  EXPECT_EQ(back.circuits, m.circuits);
  EXPECT_EQ(back.edge_scores, m.edge_scores);
  EXPECT_EQ(back.values, m.values);
  EXPECT_EQ(back.done, m.done);
  EXPECT_THROW(measured_from_json(nlohmann::json::parse(R"({"score": {}})")), std::runtime_error);
  EXPECT_THROW(measured_from_json(nlohmann::json::parse(R"({"values": {"v": "x"}})")), std::runtime_error);
}

// A stand-in driver: runs nothing, records a made-up number for every result the way
// `circuit run` records real ones (see docs/hook-plans.md, "Staged runs").
void record(const plan::HookPlan& p, MeasuredValues& m) {
  std::vector<std::string> heads;
  for (int l = 0; l < p.model.n_layers; ++l)
    for (int h = 0; h < p.model.n_heads; ++h) heads.push_back("a" + std::to_string(l) + ".h" + std::to_string(h));
  auto made_up = [](size_t i) { return 1.0 / (1.0 + static_cast<double>(i)); };
  for (const plan::Experiment& e : p.experiments) {
    m.done.insert(e.name);
    if (!e.sweeps.empty())
      for (size_t i = 0; i < heads.size(); ++i) m.scores[e.name][heads[i]] = made_up(i);
    for (const std::string& name : e.analyses) {
      const plan::Analysis& a = *plan::find_analysis(p, name);
      switch (a.kind) {
        case plan::AnalysisKind::Eap:
        case plan::AnalysisKind::EapIg:
        case plan::AnalysisKind::Acdc: {
          std::vector<std::string> edges = {heads.front() + "->logits", heads.back() + "->logits"};
          m.circuits[e.name] = edges;
          for (size_t i = 0; i < edges.size(); ++i) m.edge_scores[e.name][edges[i]] = made_up(i);
          break;
        }
        case plan::AnalysisKind::Faithfulness:
        case plan::AnalysisKind::Completeness:
        case plan::AnalysisKind::Minimality:
        case plan::AnalysisKind::CircuitCurve: m.values[e.name] = 0.5; break;
        default:
          for (size_t i = 0; i < heads.size(); ++i) m.scores[e.name][heads[i]] = made_up(i);
      }
    }
    if (e.kind == "measure") m.values[e.name] = 0.25;
  }
  for (const plan::Claim& c : p.claims) m.done.insert(c.name);
}

// Every claim of the file is lowered exactly once, in at most three stages, and nothing is
// left pending at the end.
void lowers_completely(const std::string& file) {
  auto c = compile(kRoot + "/examples/" + file);
  const auto& decls = c->program.main()->file.decls;
  const size_t claims_expected = static_cast<size_t>(
      std::count_if(decls.begin(), decls.end(), [](const ast::Decl& d) { return d.kind == ast::DeclKind::Expect; }));
  EXPECT_GT(claims_expected, 0u);
  MeasuredValues m;
  size_t claims = 0;
  int stages = 0;
  for (; stages < 8; ++stages) {
    Diagnostics d;
    plan::HookPlan p = lower_program(*c, d, m, /*report_pending=*/false);
    ASSERT_FALSE(d.has_errors());
    if (p.experiments.empty() && p.claims.empty()) break;
    plan::validate_plan(p);
    plan::validate_plan(plan::optimize_plan(p, {}));
    EXPECT_EQ(plan::plan_from_json(plan::plan_to_json(p)), p);
    claims += p.claims.size();
    record(p, m);
  }
  Diagnostics last;
  lower_program(*c, last, m, /*report_pending=*/true);
  EXPECT_EQ(warnings(last, "W050"), 0) << file;
  EXPECT_EQ(claims, claims_expected) << file;
  EXPECT_LE(stages, 3) << file;
}

TEST(LowerStages, InductionExampleLowersCompletely) { lowers_completely("induction.circuit"); }
TEST(LowerStages, IoiExampleLowersCompletely) { lowers_completely("ioi.circuit"); }
TEST(LowerStages, AblationExampleLowersCompletely) { lowers_completely("ablation.circuit"); }

}  // namespace
}  // namespace circuit::compiler
