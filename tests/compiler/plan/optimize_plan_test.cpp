// The optimizer driver: the documented order, disabling passes, dumping after one, and the
// whole pipeline on a patching experiment (fewer forwards, still a valid plan).
#include <gtest/gtest.h>

#include <sstream>

#include "compiler/optimize/optimize_plan.h"
#include "compiler/plan/plan_json.h"
#include "compiler/plan/validate_plan.h"
#include "plan_fixtures.h"

namespace circuit::plan {
namespace {

TEST(OptimizePlan, PassNamesRoundTrip) {
  std::vector<std::string> names;
  for (OptimizePass p : optimize_pass_order()) {
    names.push_back(optimize_pass_name(p));
    EXPECT_EQ(parse_optimize_pass(optimize_pass_name(p)), p);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"stack_sweeps", "expand_sweeps", "share_clean_runs",
                                             "dedupe_passes", "drop_dead", "prune_saves",
                                             "annotate_cache_reuse", "annotate_logit_positions"}));
  EXPECT_FALSE(parse_optimize_pass("fold_constants").has_value());
}

TEST(OptimizePlan, WholePipelineOnAPatchingSweep) {
  const HookPlan plan = testing::patching_sweep_plan(testing::smollm2_shape(), 10);
  OptimizeOptions options;
  options.max_batch_rows = 64;
  OptimizeReport report;
  const HookPlan out = optimize_plan(plan, options, &report);
  EXPECT_EQ(count_forwards(plan), 2u + 270);
  // ceil(10 x 270 / 64) = 43 sweep forwards and the clean and corrupt runs (the corrupt run is
  // the cache the sweep's forwards reuse below their first patched layer).
  EXPECT_EQ(count_forwards(out), 43u + 2);
  EXPECT_TRUE(check_plan(out).empty()) << check_plan(out)[0].message();
  ASSERT_EQ(report.steps.size(), optimize_pass_order().size());
  for (const OptimizeStep& step : report.steps) EXPECT_TRUE(step.ran);
  // The clean run saves exactly the 30 hook_z points the sweep reads.
  EXPECT_EQ(find_pass(out, "clean")->saves.size(), 30u);
}

TEST(OptimizePlan, DisabledPassesDoNotRun) {
  const HookPlan plan = testing::patching_sweep_plan(testing::toy_shape(), 3);
  OptimizeOptions options;
  options.disabled = {OptimizePass::StackSweeps};
  OptimizeReport report;
  const HookPlan out = optimize_plan(plan, options, &report);
  EXPECT_FALSE(report.steps[0].ran);
  EXPECT_EQ(count_forwards(out), 2u + 8);  // expand_sweeps: one per item
  options.disabled = {OptimizePass::StackSweeps, OptimizePass::ExpandSweeps,
                      OptimizePass::AnnotateCacheReuse};
  const HookPlan untouched_sweeps = optimize_plan(plan, options);
  EXPECT_EQ(untouched_sweeps.sweeps.size(), 1u);
  EXPECT_TRUE(check_plan(untouched_sweeps).empty()) << check_plan(untouched_sweeps)[0].message();
}

TEST(OptimizePlan, DumpAfterAPass) {
  const HookPlan plan = testing::patching_sweep_plan(testing::toy_shape(), 2);
  OptimizeOptions options;
  options.dump_after = OptimizePass::StackSweeps;
  std::ostringstream dump;
  options.dump_to = &dump;
  optimize_plan(plan, options);
  const std::string text = dump.str();
  ASSERT_EQ(text.rfind("// after stack_sweeps\n", 0), 0u);
  const HookPlan dumped = parse_plan(text.substr(text.find('\n') + 1));
  EXPECT_TRUE(dumped.sweeps.empty());
  EXPECT_EQ(dumped.passes.size(), 3u);  // clean, corrupt, one stacked forward of 16 rows
}

}  // namespace
}  // namespace circuit::plan
