// The identities activation patching must satisfy, on tiny random models of each family.
#include <gtest/gtest.h>

#include "runtime/exec/plan_executor.h"
#include "tests/cpp/exec/exec_test_plans.h"

namespace circuit::rt::testing {
namespace {

using formats::Family;

class PatchingIdentities : public ::testing::TestWithParam<Family> {};

plan::Intervention patch_all_heads(int layer, const std::string& source) {
  plan::Intervention in;
  in.hook = z_hook(layer);
  in.action = plan::Action::PatchFrom;
  in.source_pass = source;
  return in;
}

TEST_P(PatchingIdentities, PatchingCleanIntoCleanChangesNothing) {
  const HookedModel model = tiny_model(GetParam());
  const auto& c = model.config();
  plan::TokenBatch clean{"clean", random_rows(4, 9, c.d_vocab, 11, /*ragged=*/true), plan::PadSide::Right, false};
  plan::HookPlan plan = base_plan(model, {clean});
  plan.passes.push_back(clean_pass("clean", "clean", {z_hook(0), z_hook(1)}, {logit_diff(4, c.d_vocab)}));
  plan::Pass patched = clean_pass("patched", "clean", {}, {logit_diff(4, c.d_vocab)});
  patched.interventions = {patch_all_heads(0, "clean"), patch_all_heads(1, "clean")};
  plan.passes.push_back(patched);
  PlanResults r = run_valid(model, plan);
  expect_close(r.pass("patched")->metrics[0].per_row, r.pass("clean")->metrics[0].per_row, 1e-5, "clean into clean");
}

TEST_P(PatchingIdentities, PatchingEveryHeadFromCorruptGivesTheCorruptRun) {
  const HookedModel model = tiny_model(GetParam());
  const auto& c = model.config();
  auto rows = random_rows(4, 8, c.d_vocab, 12);
  plan::TokenBatch clean{"clean", rows, plan::PadSide::Left, false};
  plan::TokenBatch corrupt{"corrupt", corrupt_rows(rows, c.d_vocab), plan::PadSide::Left, false};
  plan::HookPlan plan = base_plan(model, {clean, corrupt});
  plan::Metric metric = logit_diff(4, c.d_vocab);
  plan.passes.push_back(clean_pass("clean", "clean", {}, {metric}));
  plan.passes.push_back(clean_pass("corrupt", "corrupt", {z_hook(0), z_hook(1)}, {metric}));
  plan::Pass patched = clean_pass("patched", "clean", {}, {metric});
  patched.interventions = {patch_all_heads(0, "corrupt"), patch_all_heads(1, "corrupt")};
  plan.passes.push_back(patched);
  PlanResults r = run_valid(model, plan);
  expect_close(r.pass("patched")->metrics[0].per_row, r.pass("corrupt")->metrics[0].per_row, 1e-4,
               "every head from corrupt");
  // And the patch did something: clean and corrupt differ.
  EXPECT_GT(std::abs(r.pass("clean")->metrics[0].mean - r.pass("corrupt")->metrics[0].mean), 1e-3);
}

TEST_P(PatchingIdentities, NormalizedMetricIsOneOnCleanAndZeroOnCorrupt) {
  const HookedModel model = tiny_model(GetParam());
  const auto& c = model.config();
  auto rows = random_rows(3, 7, c.d_vocab, 13);
  plan::HookPlan plan = base_plan(model, {plan::TokenBatch{"clean", rows, plan::PadSide::Right, false},
                                          plan::TokenBatch{"corrupt", corrupt_rows(rows, c.d_vocab), plan::PadSide::Right, false}});
  plan::Metric metric = logit_diff(3, c.d_vocab);
  metric.normalize = plan::Normalize{"clean", "corrupt"};
  plan.passes.push_back(clean_pass("clean", "clean", {}, {metric}));
  plan.passes.push_back(clean_pass("corrupt", "corrupt", {}, {metric}));
  PlanResults r = run_valid(model, plan);
  EXPECT_NEAR(r.pass("clean")->metrics[0].mean, 1.0, 1e-9);
  EXPECT_NEAR(r.pass("corrupt")->metrics[0].mean, 0.0, 1e-9);
}

INSTANTIATE_TEST_SUITE_P(Families, PatchingIdentities,
                         ::testing::Values(Family::Gpt2, Family::Llama, Family::GptNeoX, Family::AttnOnly),
                         [](const auto& info) {
                           std::string name = formats::family_name(info.param);
                           for (char& ch : name)
                             if (ch == '-') ch = '_';
                           return name;
                         });

}  // namespace
}  // namespace circuit::rt::testing
