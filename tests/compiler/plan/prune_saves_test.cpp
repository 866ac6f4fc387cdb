// prune_saves on its own: only output saves and hooks other passes read are kept; missing
// referenced saves are added.
#include <gtest/gtest.h>

#include "compiler/optimize/prune_saves.h"
#include "compiler/optimize/stack_sweeps.h"
#include "compiler/plan/validate_plan.h"
#include "plan_fixtures.h"

namespace circuit::plan {
namespace {

TEST(PruneSaves, KeepsOnlyWhatIsRead) {
  HookPlan plan = testing::patching_sweep_plan(testing::toy_shape(), 2);
  plan.sweeps[0].layers = {1};  // the sweep reads only layer 1's hook_z
  plan.passes[0].saves.push_back(Save{"blocks.0.hook_resid_pre", {}, true});
  plan.passes[0].saves.push_back(Save{"blocks.0.hook_resid_pre", {}, true});  // a repeat
  const HookPlan out = prune_saves(plan, OptimizeOptions{});
  EXPECT_EQ(out.passes[0].saves, (std::vector<Save>{Save{"blocks.1.attn.hook_z", {}, false},
                                                     Save{"blocks.0.hook_resid_pre", {}, true}}));
  EXPECT_TRUE(check_plan(out).empty()) << check_plan(out)[0].message();
  // Same after the sweep is stacked into passes.
  const HookPlan stacked = prune_saves(stack_sweeps(plan, OptimizeOptions{}), OptimizeOptions{});
  EXPECT_EQ(stacked.passes[0].saves, out.passes[0].saves);
}

TEST(PruneSaves, AddsMissingReferencedSaves) {
  HookPlan plan = testing::patching_sweep_plan(testing::toy_shape(), 2);
  testing::drop_sweeps(plan);
  Intervention patch{.hook = "hook_embed", .action = Action::PatchFrom, .source_pass = "clean"};
  plan.passes[1].interventions.push_back(patch);
  plan.passes[0].saves.push_back(Save{"hook_embed", Selection{.heads = {}, .neurons = {1}}, false});
  const HookPlan out = prune_saves(plan, OptimizeOptions{});
  EXPECT_EQ(out.passes[0].saves, (std::vector<Save>{Save{"hook_embed", {}, false}}));
}

}  // namespace
}  // namespace circuit::plan
