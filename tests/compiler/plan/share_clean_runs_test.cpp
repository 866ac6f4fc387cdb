// share_clean_runs on its own: clean runs over the same rows merge, references follow, and
// freeze / batch-referenced ablations get a clean run to read from.
#include <gtest/gtest.h>

#include "compiler/optimize/share_clean_runs.h"
#include "compiler/plan/validate_plan.h"
#include "plan_fixtures.h"

namespace circuit::plan {
namespace {

TEST(ShareCleanRuns, MergesCleanRunsOfTheSameInput) {
  HookPlan plan = testing::patching_sweep_plan(testing::toy_shape(), 3);
  Pass clean2{.name = "clean_again", .batch = "clean", .n_rows = 3};
  clean2.saves.push_back(Save{"blocks.1.hook_resid_post", {}, true});
  plan.passes.push_back(clean2);
  plan.passes[1].metrics[0].normalize->clean_pass = "clean_again";
  plan.experiments.push_back(Experiment{"cache", "cache", {"clean_again"}, {}, true});
  const HookPlan out = share_clean_runs(plan, OptimizeOptions{});
  ASSERT_EQ(out.passes.size(), 2u);
  EXPECT_EQ(out.passes[0].name, "clean");
  EXPECT_EQ(out.passes[0].saves.back().hook, "blocks.1.hook_resid_post");
  EXPECT_EQ(out.passes[1].metrics[0].normalize->clean_pass, "clean");
  EXPECT_EQ(out.experiments[1].passes, std::vector<std::string>{"clean"});
  EXPECT_TRUE(check_plan(out).empty()) << check_plan(out)[0].message();
}

TEST(ShareCleanRuns, KeepsRunsWhoseMetricsClash) {
  HookPlan plan = testing::patching_sweep_plan(testing::toy_shape(), 3);
  Pass other{.name = "clean_other_metric", .batch = "clean"};
  Metric m = testing::logit_diff_metric(3);
  m.answers[0] = 99;  // same name, different content
  other.metrics.push_back(m);
  plan.passes.push_back(other);
  EXPECT_EQ(share_clean_runs(plan, OptimizeOptions{}).passes.size(), 3u);
}

TEST(ShareCleanRuns, ResolvesFreezeAndBatchAblations) {
  HookPlan plan = testing::patching_sweep_plan(testing::toy_shape(), 3);
  plan.passes[1].interventions.push_back(
      Intervention{.hook = "blocks.0.attn.hook_pattern", .action = Action::Freeze});
  plan.passes[1].interventions.push_back(Intervention{
      .hook = "blocks.1.hook_resid_mid", .action = Action::MeanAblate, .source_batch = "clean"});
  const HookPlan out = share_clean_runs(plan, OptimizeOptions{});
  ASSERT_EQ(out.passes.size(), 3u);
  const Pass& added = out.passes[2];  // the corrupt batch had no clean run
  EXPECT_EQ(added.name, "clean:corrupt");
  EXPECT_TRUE(added.interventions.empty());
  EXPECT_EQ(added.saves, (std::vector<Save>{Save{"blocks.0.attn.hook_pattern", {}, false}}));
  EXPECT_EQ(out.passes[1].interventions[0].source_pass, "clean:corrupt");
  EXPECT_EQ(out.passes[1].interventions[1].source_pass, "clean");
  EXPECT_TRUE(out.passes[1].interventions[1].source_batch.empty());
  EXPECT_EQ(out.passes[0].saves.back(), (Save{"blocks.1.hook_resid_mid", {}, false}));
  // The toy model has no MLP, so resid_mid does not exist there: check on SmolLM2's shape.
  HookPlan real = testing::patching_sweep_plan(testing::smollm2_shape(), 2);
  real.passes[1].interventions = plan.passes[1].interventions;
  const HookPlan real_out = share_clean_runs(real, OptimizeOptions{});
  EXPECT_TRUE(check_plan(real_out).empty()) << check_plan(real_out)[0].message();
}

}  // namespace
}  // namespace circuit::plan
