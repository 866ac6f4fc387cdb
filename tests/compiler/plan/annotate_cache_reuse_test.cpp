// annotate_cache_reuse on its own: the first intervened layer and position of each pass, and
// the clean run whose cache the executor reuses below them.
#include <gtest/gtest.h>

#include "compiler/optimize/annotate_cache_reuse.h"
#include "compiler/optimize/stack_sweeps.h"
#include "compiler/plan/validate_plan.h"
#include "plan_fixtures.h"

namespace circuit::plan {
namespace {

TEST(AnnotateCacheReuse, FirstLayerAndPosition) {
  HookPlan plan = testing::patching_sweep_plan(testing::smollm2_shape(), 3);
  testing::drop_sweeps(plan);
  plan.batches[1].rows[1].resize(5);  // rows of 8, 5 and 8 tokens
  plan.passes[1].metrics.clear();
  Intervention late{.hook = "blocks.12.attn.hook_z", .action = Action::Zero};
  late.select.positions.index = {-2};
  Intervention later{.hook = "blocks.20.mlp.hook_post", .action = Action::Zero};
  later.select.positions.per_row = {{6}, {4}, {7}};
  plan.passes[1].interventions = {later, late};
  const HookPlan out = annotate_cache_reuse(plan, OptimizeOptions{});
  const PassAnnotations& a = out.passes[1].annotations;
  EXPECT_EQ(a.first_intervened_layer, 12);
  EXPECT_EQ(a.first_intervened_position, 3);  // -2 in the 5-token row
  EXPECT_EQ(a.cache_from, "");  // one pass of 3 rows: not worth a clean run of its own
  EXPECT_FALSE(out.passes[0].annotations.first_intervened_layer.has_value());
}

TEST(AnnotateCacheReuse, EmbeddingInterventionsStartAtLayerZero) {
  HookPlan plan = testing::patching_sweep_plan(testing::toy_shape(), 2);
  testing::drop_sweeps(plan);
  plan.passes[1].interventions = {Intervention{.hook = "hook_embed", .action = Action::Zero}};
  const HookPlan out = annotate_cache_reuse(plan, OptimizeOptions{});
  EXPECT_EQ(out.passes[1].annotations.first_intervened_layer, 0);
  EXPECT_EQ(out.passes[1].annotations.first_intervened_position, 0);
}

TEST(AnnotateCacheReuse, StackedSweepReusesTheTargetsCleanRun) {
  HookPlan plan = testing::patching_sweep_plan(testing::smollm2_shape(), 4);
  plan.sweeps[0].layers = {5, 6};
  plan.sweeps[0].positions = {-1};
  OptimizeOptions options;
  options.max_batch_rows = 8;
  // The corrupt run is itself a clean run of the corrupt batch.
  HookPlan out = annotate_cache_reuse(stack_sweeps(plan, options), options);
  for (const Pass& p : out.passes) {
    if (p.slices.empty()) continue;
    EXPECT_EQ(p.annotations.cache_from, "corrupt");
    EXPECT_EQ(p.annotations.first_intervened_position, 7);
    EXPECT_GE(*p.annotations.first_intervened_layer, 5);
  }
  EXPECT_TRUE(check_plan(out).empty()) << check_plan(out)[0].message();

  // When the target has interventions of its own, a clean run is added: 2 layers x 9 heads x
  // 4 prompts = 72 rows of the corrupt batch would reuse it.
  Intervention late{.hook = "blocks.29.hook_resid_post", .action = Action::Zero};
  plan.passes[1].interventions.push_back(late);
  out = annotate_cache_reuse(stack_sweeps(plan, options), options);
  const Pass* clean = find_pass(out, "clean:corrupt");
  ASSERT_NE(clean, nullptr);
  EXPECT_TRUE(clean->interventions.empty());
  EXPECT_EQ(out.passes[1].annotations.cache_from, "clean:corrupt");
  EXPECT_EQ(out.passes[1].annotations.first_intervened_layer, 29);
  EXPECT_EQ(out.passes[2].annotations.cache_from, "clean:corrupt");  // a stacked forward
  EXPECT_TRUE(check_plan(out).empty()) << check_plan(out)[0].message();
  options.add_clean_runs_for_reuse = false;
  out = annotate_cache_reuse(stack_sweeps(plan, options), options);
  EXPECT_EQ(find_pass(out, "clean:corrupt"), nullptr);
  EXPECT_EQ(out.passes[1].annotations.cache_from, "");
}

TEST(AnnotateCacheReuse, BackwardPassesDoNotReuse) {
  HookPlan plan = testing::patching_sweep_plan(testing::toy_shape(), 2);
  testing::drop_sweeps(plan);
  Pass clean_corrupt{.name = "corrupt_clean", .batch = "corrupt"};
  plan.passes.push_back(clean_corrupt);
  plan.passes[1].interventions = {Intervention{.hook = "blocks.1.attn.hook_z", .action = Action::Zero}};
  plan.passes[1].backward = Backward{"logit_diff", {"blocks.0.attn.hook_z"}};
  const HookPlan out = annotate_cache_reuse(plan, OptimizeOptions{});
  EXPECT_EQ(out.passes[1].annotations.first_intervened_layer, 1);
  EXPECT_EQ(out.passes[1].annotations.cache_from, "");
}

}  // namespace
}  // namespace circuit::plan
