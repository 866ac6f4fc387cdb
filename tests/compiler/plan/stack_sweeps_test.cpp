// stack_sweeps on its own: the forward-count guarantee for an all-heads patching sweep, and
// that every item's rows are covered exactly once with its own intervention.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "compiler/optimize/stack_sweeps.h"
#include "compiler/plan/validate_plan.h"
#include "plan_fixtures.h"

namespace circuit::plan {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

std::vector<const Pass*> sweep_passes(const HookPlan& plan) {
  std::vector<const Pass*> out;
  for (const Pass& p : plan.passes)
    if (!p.slices.empty()) out.push_back(&p);
  return out;
}

// For every item: which batch rows it ran on (must be each row once) and its intervention.
void expect_items_covered(const HookPlan& plan, int items, int n_prompts) {
  std::map<int, std::multiset<int>> rows_of_item;
  for (const Pass* p : sweep_passes(plan)) {
    for (const RowSlice& s : p->slices) {
      for (int r = 0; r < s.n_rows; ++r) rows_of_item[s.item].insert((s.batch_row_offset + r) % n_prompts);
      // The slice's rows are exactly the rows its item's intervention selects.
      const std::string hook = "blocks." + std::to_string(*s.layer) + ".attn.hook_z";
      bool found = false;
      for (const Intervention& in : p->interventions) {
        if (in.hook != hook || in.select.heads != std::vector<int>{*s.head}) continue;
        found = true;
        std::vector<int> expected;
        for (int r = 0; r < s.n_rows; ++r) expected.push_back(s.first_row + r);
        if (!in.select.rows.empty()) EXPECT_EQ(in.select.rows, expected);
        else EXPECT_EQ(s.n_rows, p->n_rows);
        EXPECT_EQ(in.source_pass, "clean");
      }
      EXPECT_TRUE(found) << "item " << s.item;
      // Pass row first_row holds batch row batch_row_offset.
      EXPECT_EQ((p->row_offset + s.first_row) % n_prompts, s.batch_row_offset);
    }
  }
  ASSERT_EQ(static_cast<int>(rows_of_item.size()), items);
  std::multiset<int> all;
  for (int r = 0; r < n_prompts; ++r) all.insert(r);
  for (const auto& [item, rows] : rows_of_item) EXPECT_EQ(rows, all) << "item " << item;
}

TEST(StackSweeps, AllHeadsSweepRunsInCeilNTimesHeadsOverBatchForwards) {
  for (int n_prompts : {1, 3, 5, 8, 40}) {
    for (int max_batch : {1, 7, 32, 64}) {
      HookPlan plan = testing::patching_sweep_plan(testing::smollm2_shape(), n_prompts);
      OptimizeOptions options;
      options.max_batch_rows = max_batch;
      const HookPlan out = stack_sweeps(plan, options);
      const int items = 30 * 9;
      EXPECT_EQ(static_cast<int64_t>(sweep_passes(out).size()), ceil_div(int64_t{n_prompts} * items, max_batch))
          << n_prompts << " prompts, batch " << max_batch;
      EXPECT_TRUE(out.sweeps.empty());
      for (const Pass* p : sweep_passes(out)) EXPECT_LE(p->n_rows, max_batch);
      expect_items_covered(out, items, n_prompts);
      EXPECT_TRUE(check_plan(out).empty()) << check_plan(out)[0].message();
    }
  }
}

TEST(StackSweeps, TokenBudgetLimitsRowsPerForward) {
  HookPlan plan = testing::patching_sweep_plan(testing::toy_shape(), 4, 10);
  OptimizeOptions options;
  options.max_batch_rows = 64;
  options.max_batch_tokens = 100;  // 10 rows of 10 tokens
  const HookPlan out = stack_sweeps(plan, options);
  EXPECT_EQ(sweep_passes(out).size(), static_cast<size_t>(ceil_div(4 * 2 * 4, 10)));
  for (const Pass* p : sweep_passes(out)) EXPECT_LE(p->n_rows, 10);
}

TEST(StackSweeps, TargetInterventionsAndMetricsCarryOver) {
  HookPlan plan = testing::patching_sweep_plan(testing::toy_shape(), 2);
  Intervention scale{.hook = "blocks.0.hook_resid_pre", .action = Action::Scale, .factor = 2.0};
  scale.select.rows = {1};  // only the target's second row
  plan.passes[1].interventions.push_back(scale);
  plan.sweeps[0].positions = {-1, 0};
  OptimizeOptions options;
  options.max_batch_rows = 5;
  const HookPlan out = stack_sweeps(plan, options);
  ASSERT_TRUE(check_plan(out).empty()) << check_plan(out)[0].message();
  int scaled_rows = 0;
  for (const Pass* p : sweep_passes(out)) {
    EXPECT_EQ(p->metrics, plan.passes[1].metrics);
    for (const Intervention& in : p->interventions) {
      if (in.action != Action::Scale) continue;
      for (int row : in.select.rows) EXPECT_EQ((p->row_offset + row) % 2, 1);
      scaled_rows += static_cast<int>(in.select.rows.size());
    }
    for (const RowSlice& s : p->slices) EXPECT_TRUE(s.position == -1 || s.position == 0);
  }
  EXPECT_EQ(scaled_rows, 2 * 4 * 2);  // one row per item, 2 layers x 4 heads x 2 positions
}

TEST(StackSweeps, PartialTargetsGetForwardsPerItem) {
  // A target covering 3 of 4 prompts cannot share forwards (rows would not stay one run).
  HookPlan plan = testing::patching_sweep_plan(testing::toy_shape(), 4);
  plan.passes[1].n_rows = 3;
  plan.passes[1].row_offset = 1;
  OptimizeOptions options;
  options.max_batch_rows = 32;
  const HookPlan out = stack_sweeps(plan, options);
  EXPECT_EQ(sweep_passes(out).size(), 8u);
  for (const Pass* p : sweep_passes(out)) {
    EXPECT_EQ(p->n_rows, 3);
    EXPECT_EQ(p->row_offset, 1);
  }
  EXPECT_TRUE(check_plan(out).empty()) << check_plan(out)[0].message();
}

}  // namespace
}  // namespace circuit::plan
