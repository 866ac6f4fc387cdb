// expand_sweeps on its own: one pass per sweep item, each with its item's intervention.
#include <gtest/gtest.h>

#include "compiler/optimize/expand_sweeps.h"
#include "compiler/plan/validate_plan.h"
#include "plan_fixtures.h"

namespace circuit::plan {
namespace {

TEST(ExpandSweeps, OnePassPerItem) {
  const HookPlan plan = testing::patching_sweep_plan(testing::toy_shape(), 3);
  const HookPlan out = expand_sweeps(plan, OptimizeOptions{});
  ASSERT_EQ(out.passes.size(), 2u + 2 * 4);
  EXPECT_TRUE(out.sweeps.empty());
  const Pass& item5 = out.passes[2 + 5];  // layer 1, head 1
  EXPECT_EQ(item5.name, "patch_heads#5");
  ASSERT_EQ(item5.interventions.size(), 1u);
  EXPECT_EQ(item5.interventions[0].hook, "blocks.1.attn.hook_z");
  EXPECT_EQ(item5.interventions[0].select.heads, std::vector<int>{1});
  EXPECT_TRUE(item5.interventions[0].select.rows.empty());
  ASSERT_EQ(item5.slices.size(), 1u);
  EXPECT_EQ(item5.slices[0].item, 5);
  EXPECT_EQ(item5.slices[0].n_rows, 3);
  EXPECT_TRUE(check_plan(out).empty()) << check_plan(out)[0].message();
}

TEST(ExpandSweeps, ChunksItemsLargerThanTheBudget) {
  const HookPlan plan = testing::patching_sweep_plan(testing::toy_shape(), 5);
  OptimizeOptions options;
  options.max_batch_rows = 2;
  const HookPlan out = expand_sweeps(plan, options);
  EXPECT_EQ(out.passes.size(), 2u + 8 * 3);  // 5 rows -> 2 + 2 + 1
  EXPECT_TRUE(check_plan(out).empty()) << check_plan(out)[0].message();
}

TEST(ExpandSweeps, NamesAvoidExistingPasses) {
  HookPlan plan = testing::patching_sweep_plan(testing::toy_shape(), 2);
  Pass taken = plan.passes[1];
  taken.name = "patch_heads#0";
  plan.passes.push_back(taken);
  const HookPlan out = expand_sweeps(plan, OptimizeOptions{});
  EXPECT_EQ(out.passes[3].name, "patch_heads#0~2");
}

}  // namespace
}  // namespace circuit::plan
