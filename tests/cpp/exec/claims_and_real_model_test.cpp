// Claims pass and fail on measured and constant values; a patching sweep on the embedded
// induction-2l model runs end to end with and without cache reuse.
#include <gtest/gtest.h>

#include <chrono>

#include "compiler/optimize/optimize_plan.h"
#include "runtime/exec/claims.h"
#include "runtime/exec/plan_executor.h"
#include "runtime/formats/model_source.h"
#include "tests/cpp/exec/exec_test_plans.h"

namespace circuit::rt::testing {
namespace {

using formats::Family;

plan::Claim claim(std::string name, std::string comparator, double threshold, std::string experiment,
                  std::optional<double> constant = std::nullopt) {
  plan::Claim c;
  c.name = std::move(name);
  c.expression = "test";
  c.comparator = std::move(comparator);
  c.threshold = threshold;
  c.experiment = std::move(experiment);
  c.constant = constant;
  c.location = "test.circuit:1:1";
  return c;
}

TEST(Claims, PassAndFailOnTheExperimentsValue) {
  const HookedModel model = tiny_model(Family::AttnOnly);
  const auto& c = model.config();
  auto rows = random_rows(3, 6, c.d_vocab, 41);
  plan::HookPlan plan = base_plan(model, {plan::TokenBatch{"clean", rows, plan::PadSide::Right, false}});
  plan.passes.push_back(clean_pass("clean", "clean", {}, {logit_diff(3, c.d_vocab)}));
  plan.experiments.push_back(plan::Experiment{"run", "cache", {"clean"}, {}, true, {}});
  // Thresholds around the measured value, found by a first run.
  const double measured = run_valid(model, plan).pass("clean")->metrics[0].mean;
  plan.claims = {claim("above", ">=", measured - 0.5, "run"), claim("below", "<", measured - 0.5, "run"),
                 claim("constant_ok", "==", 3.0, "", 3.0), claim("constant_bad", ">", 4.0, "", 3.0)};
  PlanResults r = run_valid(model, plan);
  ASSERT_EQ(r.claims.size(), 4u);
  EXPECT_TRUE(r.claims[0].passed);
  EXPECT_FALSE(r.claims[1].passed);
  EXPECT_NEAR(r.claims[0].measured, measured, 1e-9);
  EXPECT_TRUE(r.claims[2].passed);
  EXPECT_FALSE(r.claims[3].passed);
  EXPECT_EQ(r.claims[3].location, "test.circuit:1:1");
}

TEST(Claims, Comparators) {
  EXPECT_TRUE(compare(1.0, "<=", 1.0));
  EXPECT_FALSE(compare(1.0, "<", 1.0));
  EXPECT_TRUE(compare(0.1 + 0.2, "==", 0.3));
  EXPECT_TRUE(compare(1.0, "!=", 1.1));
  EXPECT_THROW(compare(1.0, "=>", 1.0), std::invalid_argument);
}

// The induction-2l toy: clean prompts repeat a random sequence (the induction head predicts the
// repeat); corrupt prompts break the repeat. All heads patched at the last position.
TEST(RealModel, InductionSweepWithAndWithoutReuse) {
  const auto source = formats::resolve_model("induction-2l", formats::models_folder(CIRCUIT_SOURCE_DIR));
  const HookedModel model = HookedModel::load(source);
  const auto& c = model.config();
  std::mt19937 gen(5);
  std::uniform_int_distribution<int> letter('a', 'z');
  std::vector<std::vector<int32_t>> clean, corrupt;
  plan::Metric metric;
  metric.name = "logit_diff";
  metric.kind = plan::MetricKind::LogitDiff;
  for (int r = 0; r < 8; ++r) {
    std::vector<int32_t> s;
    for (int i = 0; i < 10; ++i) s.push_back(letter(gen));
    std::vector<int32_t> row{0};
    row.insert(row.end(), s.begin(), s.end());
    row.insert(row.end(), s.begin(), s.begin() + 5);
    std::vector<int32_t> bad = row;
    for (size_t i = 1; i <= s.size(); ++i) bad[i] = 'a' + (bad[i] - 'a' + 13) % 26;
    clean.push_back(row);
    corrupt.push_back(bad);
    metric.answers.push_back(s[5]);  // the repeat's next token
    metric.wrong_answers.push_back('a' + (s[5] - 'a' + 13) % 26);
  }
  metric.normalize = plan::Normalize{"clean", "corrupt"};
  plan::HookPlan plan = base_plan(model, {plan::TokenBatch{"clean", clean, plan::PadSide::Right, false},
                                          plan::TokenBatch{"corrupt", corrupt, plan::PadSide::Right, false}});
  plan.model.name = "induction-2l";
  plan.passes.push_back(clean_pass("clean", "clean", {}, {metric}));
  plan.passes.back().saves = {plan::Save{z_hook(0), {}, false}, plan::Save{z_hook(1), {}, false}};
  plan.passes.push_back(clean_pass("corrupt", "corrupt", {}, {metric}));
  plan::Sweep sweep;
  sweep.name = "heads";
  sweep.target_pass = "corrupt";
  sweep.intervention.hook = "blocks.{layer}.attn.hook_z";
  sweep.intervention.action = plan::Action::PatchFrom;
  sweep.intervention.source_pass = "clean";
  sweep.layers = {0, 1};
  sweep.heads = {0, 1, 2, 3};
  sweep.positions = {-1};
  plan.sweeps.push_back(sweep);
  plan.experiments.push_back(plan::Experiment{"patching", "activation_patching", {"clean", "corrupt"}, {"heads"}, true, {}});
  const plan::HookPlan optimized = plan::optimize_plan(plan, {});
  ExecutionOptions full;
  full.reuse_caches = false;
  PlanResults a = run_valid(model, optimized);
  PlanResults b = run_valid(model, optimized, full);
  const SweepResult* s = a.sweep("heads");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->items.size(), 8u);
  for (size_t i = 0; i < s->items.size(); ++i) EXPECT_NEAR(s->items[i].value, b.sweep("heads")->items[i].value, 1e-4);
  // The model does induction: clean beats corrupt, and some layer-1 head carries most of it
  // at the last position (patching it alone recovers over half of the clean logit difference).
  EXPECT_GT(a.pass("clean")->metrics[0].per_row[0], a.pass("corrupt")->metrics[0].per_row[0]);
  double best = -1e9;
  for (const auto& item : s->items)
    if (item.layer == 1) best = std::max(best, item.value);
  EXPECT_GT(best, 0.5);
}

}  // namespace
}  // namespace circuit::rt::testing
