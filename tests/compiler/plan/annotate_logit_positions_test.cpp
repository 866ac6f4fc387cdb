// annotate_logit_positions on its own: the unembedding is needed only where metrics (own, or
// kl metrics referencing the pass) read, everywhere when logits are saved, nowhere otherwise.
#include <gtest/gtest.h>

#include "compiler/optimize/annotate_logit_positions.h"
#include "compiler/plan/validate_plan.h"
#include "plan_fixtures.h"

namespace circuit::plan {
namespace {

TEST(AnnotateLogitPositions, MetricsReadTheLastTokenByDefault) {
  HookPlan plan = testing::patching_sweep_plan(testing::toy_shape(), 2);
  testing::drop_sweeps(plan);
  Pass cache{.name = "cache", .batch = "clean"};
  cache.saves.push_back(Save{"blocks.0.attn.hook_pattern", {}, true});
  plan.passes.push_back(cache);
  const HookPlan out = annotate_logit_positions(plan, OptimizeOptions{});
  EXPECT_EQ(out.passes[0].annotations.logits_needed, true);
  EXPECT_EQ(out.passes[0].annotations.logit_positions, (Positions{{-1}, {}}));
  EXPECT_EQ(out.passes[2].annotations.logits_needed, false);
  EXPECT_FALSE(out.passes[2].annotations.logit_positions.has_value());
  EXPECT_TRUE(check_plan(out).empty()) << check_plan(out)[0].message();
}

TEST(AnnotateLogitPositions, KlReferencesAndPerRowPositions) {
  HookPlan plan = testing::patching_sweep_plan(testing::toy_shape(), 2, 6);
  testing::drop_sweeps(plan);
  Metric kl{.name = "kl", .kind = MetricKind::Kl, .reference_pass = "clean"};
  kl.position.per_row = {{2}, {4}};
  plan.passes[1].metrics.push_back(kl);
  const HookPlan out = annotate_logit_positions(plan, OptimizeOptions{});
  // clean: its own metric at -1 (position 5 in rows of 6) and the kl positions.
  EXPECT_EQ(out.passes[0].annotations.logit_positions, (Positions{{}, {{2, 5}, {4, 5}}}));
  EXPECT_EQ(out.passes[1].annotations.logit_positions, (Positions{{}, {{2, 5}, {4, 5}}}));
  EXPECT_TRUE(check_plan(out).empty()) << check_plan(out)[0].message();
}

TEST(AnnotateLogitPositions, SavedLogitsNeedEveryPosition) {
  HookPlan plan = testing::patching_sweep_plan(testing::toy_shape(), 2);
  plan.passes[0].saves.push_back(Save{"hook_logits", {}, true});
  const HookPlan out = annotate_logit_positions(plan, OptimizeOptions{});
  EXPECT_EQ(out.passes[0].annotations.logits_needed, true);
  EXPECT_FALSE(out.passes[0].annotations.logit_positions.has_value());
}

}  // namespace
}  // namespace circuit::plan
