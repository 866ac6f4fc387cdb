// drop_dead on its own: unreported experiments, their passes and sweeps go; what a live pass
// reads stays; without experiments only passes with nothing to report go.
#include <gtest/gtest.h>

#include "compiler/optimize/drop_dead.h"
#include "compiler/plan/validate_plan.h"
#include "plan_fixtures.h"

namespace circuit::plan {
namespace {

std::vector<std::string> names(const HookPlan& plan) {
  std::vector<std::string> out;
  for (const Pass& p : plan.passes) out.push_back(p.name);
  return out;
}

TEST(DropDead, UnreportedExperimentsAndTheirPassesGo) {
  HookPlan plan = testing::patching_sweep_plan(testing::toy_shape(), 2);
  plan.experiments[0].report = false;
  Pass cache{.name = "cache", .batch = "clean"};
  cache.saves.push_back(Save{"blocks.0.attn.hook_pattern", {}, true});
  plan.passes.push_back(cache);
  plan.experiments.push_back(Experiment{"attention", "cache", {"cache"}, {}, true});
  const HookPlan out = drop_dead(plan, OptimizeOptions{});
  EXPECT_EQ(names(out), std::vector<std::string>{"cache"});
  EXPECT_TRUE(out.sweeps.empty());
  ASSERT_EQ(out.experiments.size(), 1u);
  EXPECT_TRUE(check_plan(out).empty()) << check_plan(out)[0].message();
}

TEST(DropDead, WhatLivePassesReadStays) {
  HookPlan plan = testing::patching_sweep_plan(testing::toy_shape(), 2);
  // Only the sweep is reported; its target and source stay, and so do the normalization runs.
  plan.experiments[0].passes.clear();
  Pass unread{.name = "unread", .batch = "clean"};
  unread.metrics.push_back(testing::logit_diff_metric(2));
  plan.passes.push_back(unread);
  const HookPlan out = drop_dead(plan, OptimizeOptions{});
  EXPECT_EQ(names(out), (std::vector<std::string>{"clean", "corrupt"}));
  EXPECT_EQ(out.sweeps.size(), 1u);
}

TEST(DropDead, WithoutExperimentsPassesWithNoOutputGo) {
  HookPlan plan = testing::patching_sweep_plan(testing::toy_shape(), 2);
  plan.experiments.clear();
  testing::drop_sweeps(plan);
  Pass silent{.name = "silent", .batch = "clean"};
  silent.saves.push_back(Save{"blocks.0.attn.hook_z", {}, false});
  plan.passes.push_back(silent);
  EXPECT_EQ(names(drop_dead(plan, OptimizeOptions{})), (std::vector<std::string>{"clean", "corrupt"}));
}

}  // namespace
}  // namespace circuit::plan
