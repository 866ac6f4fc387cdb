// dedupe_passes on its own: identical passes run once and references follow the survivor,
// including duplicates that only become identical once their sources are merged.
#include <gtest/gtest.h>

#include "compiler/optimize/dedupe_passes.h"
#include "compiler/plan/validate_plan.h"
#include "plan_fixtures.h"

namespace circuit::plan {
namespace {

TEST(DedupePasses, MergesIdenticalPassesTransitively) {
  HookPlan plan = testing::patching_sweep_plan(testing::toy_shape(), 2);
  testing::drop_sweeps(plan);
  plan.experiments.clear();
  Pass ablated{.name = "ablated", .batch = "corrupt"};
  ablated.interventions.push_back(Intervention{.hook = "blocks.0.attn.hook_z", .action = Action::Zero});
  ablated.saves.push_back(Save{"blocks.1.hook_resid_pre", {}, false});
  Pass ablated2 = ablated;
  ablated2.name = "ablated2";
  Pass reader{.name = "reader", .batch = "corrupt"};
  reader.interventions.push_back(Intervention{
      .hook = "blocks.1.hook_resid_pre", .action = Action::PatchFrom, .source_pass = "ablated"});
  reader.metrics.push_back(testing::logit_diff_metric(2));
  Pass reader2 = reader;
  reader2.name = "reader2";
  reader2.interventions[0].source_pass = "ablated2";
  plan.passes.insert(plan.passes.end(), {ablated, ablated2, reader, reader2});
  plan.experiments.push_back(Experiment{"a", "", {"reader"}, {}, true});
  plan.experiments.push_back(Experiment{"b", "", {"reader2", "reader"}, {}, true});
  const HookPlan out = dedupe_passes(plan, OptimizeOptions{});
  std::vector<std::string> names;
  for (const Pass& p : out.passes) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"clean", "corrupt", "ablated", "reader"}));
  EXPECT_EQ(out.experiments[1].passes, std::vector<std::string>{"reader"});
  EXPECT_TRUE(check_plan(out).empty()) << check_plan(out)[0].message();
}

TEST(DedupePasses, DifferentPassesStay) {
  HookPlan plan = testing::patching_sweep_plan(testing::toy_shape(), 2);
  Pass copy = plan.passes[1];
  copy.name = "corrupt_last_row";
  copy.row_offset = 1;
  copy.n_rows = 1;
  plan.passes.push_back(copy);
  EXPECT_EQ(dedupe_passes(plan, OptimizeOptions{}).passes.size(), 3u);
}

}  // namespace
}  // namespace circuit::plan
