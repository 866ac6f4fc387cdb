// The plan validator: a valid plan passes; each kind of mistake gets one line naming the JSON
// path and the reason; limits bound what a plan may ask for.
#include <gtest/gtest.h>

#include <string>

#include "compiler/plan/plan_error.h"
#include "compiler/plan/validate_plan.h"
#include "plan_fixtures.h"

namespace circuit::plan {
namespace {

using testing::patching_sweep_plan;
using testing::smollm2_shape;
using testing::toy_shape;

std::string first_issue(const HookPlan& plan, const PlanLimits& limits = {}) {
  try {
    validate_plan(plan, limits);
  } catch (const PlanError& e) {
    return e.what();
  }
  return "valid";
}

HookPlan smollm_plan() { return patching_sweep_plan(smollm2_shape(), 4); }

Intervention zero_at(const std::string& hook) {
  return Intervention{.hook = hook, .action = Action::Zero};
}

TEST(ValidatePlan, AcceptsAPatchingSweep) {
  EXPECT_EQ(first_issue(smollm_plan()), "valid");
  EXPECT_EQ(first_issue(patching_sweep_plan(toy_shape(), 3)), "valid");
}

TEST(ValidatePlan, HeadOutOfRange) {
  HookPlan plan = smollm_plan();
  Intervention in = zero_at("blocks.3.attn.hook_z");
  in.select.heads = {2, 12};
  plan.passes[1].interventions.push_back(in);
  EXPECT_EQ(first_issue(plan),
            "passes[1].interventions[0].select.heads[1]: 12 is out of range (model has 9 heads)");
  plan.passes[1].interventions[0].hook = "blocks.3.attn.hook_k";
  plan.passes[1].interventions[0].select.heads = {3};
  EXPECT_EQ(first_issue(plan),
            "passes[1].interventions[0].select.heads[0]: 3 is out of range (model has 3 key/value heads)");
  plan.passes[1].interventions[0].hook = "blocks.3.hook_resid_pre";
  EXPECT_EQ(first_issue(plan), "passes[1].interventions[0].select.heads: hook point "
                               "'blocks.{l}.hook_resid_pre' has no head axis");
}

TEST(ValidatePlan, HookNamesComeFromTheTable) {
  HookPlan plan = smollm_plan();
  plan.passes[1].interventions.push_back(zero_at("blocks.3.attn.hook_zz"));
  EXPECT_EQ(first_issue(plan), "passes[1].interventions[0].hook: unknown hook point "
                               "'blocks.3.attn.hook_zz'; did you mean 'blocks.3.attn.hook_z'?");
  plan.passes[1].interventions[0].hook = "blocks.30.attn.hook_z";
  EXPECT_EQ(first_issue(plan), "passes[1].interventions[0].hook: layer 30 out of range in "
                               "'blocks.30.attn.hook_z': layers are 0..29");
  plan.passes[1].interventions[0].hook = std::string(100000, 'x');
  EXPECT_EQ(first_issue(plan), "passes[1].interventions[0].hook: hook name longer than 128 characters");
  // The toy model has no MLP, so no MLP hook points.
  HookPlan toy = patching_sweep_plan(toy_shape(), 2);
  toy.passes[1].interventions.push_back(zero_at("blocks.0.mlp.hook_post"));
  EXPECT_NE(first_issue(toy).find("does not exist in this attn-only model"), std::string::npos);
}

TEST(ValidatePlan, NeuronsAndPositions) {
  HookPlan plan = smollm_plan();
  Intervention in = zero_at("blocks.2.mlp.hook_post");
  in.select.neurons = {1535, 1536};
  plan.passes[1].interventions.push_back(in);
  EXPECT_EQ(first_issue(plan), "passes[1].interventions[0].select.neurons[1]: 1536 is out of range "
                               "(the indexed axis has size 1536)");
  plan.passes[1].interventions[0].select.neurons = {};
  plan.passes[1].interventions[0].select.positions.index = {-8, -9};
  EXPECT_EQ(first_issue(plan), "passes[1].interventions[0].select.positions[1]: position -9 is out of "
                               "range (the shortest row has 8 tokens)");
  plan.passes[1].interventions[0].select.positions = Positions{{}, {{1}, {2}}};
  EXPECT_EQ(first_issue(plan), "passes[1].interventions[0].select.positions.per_row: has 2 rows but "
                               "batch 'corrupt' has 4");
  plan.passes[1].interventions[0].select.positions = Positions{{}, {{1}, {2}, {8}, {0}}};
  EXPECT_EQ(first_issue(plan), "passes[1].interventions[0].select.positions.per_row[2][0]: position 8 "
                               "is out of range (row has 8 tokens)");
  plan.passes[1].interventions[0].select.positions = {};
  plan.passes[1].interventions[0].select.rows = {4};
  EXPECT_EQ(first_issue(plan), "passes[1].interventions[0].select.rows[0]: 4 is out of range (the pass "
                               "has 4 rows)");
}

TEST(ValidatePlan, TokensAndBatches) {
  HookPlan plan = smollm_plan();
  plan.batches[0].rows[2][5] = 49152;
  EXPECT_EQ(first_issue(plan), "batches[0].rows[2][5]: token id 49152 is out of range (d_vocab 49152)");
  plan = smollm_plan();
  plan.batches[1].equal_lengths = true;
  plan.batches[1].rows[3].pop_back();
  EXPECT_EQ(first_issue(plan), "batches[1].rows[3]: has 7 tokens but row 0 has 8 (the batch requires "
                               "equal lengths)");
  plan = smollm_plan();
  plan.passes[1].batch = "nope";
  EXPECT_EQ(first_issue(plan), "passes[1].batch: no batch named 'nope'");
  plan = smollm_plan();
  plan.passes[1].name = "clean";
  EXPECT_EQ(first_issue(plan), "passes[1].name: duplicate name 'clean'");
}

TEST(ValidatePlan, References) {
  HookPlan plan = smollm_plan();
  Intervention patch{.hook = "blocks.0.hook_resid_pre", .action = Action::PatchFrom, .source_pass = "clean"};
  plan.passes[1].interventions.push_back(patch);
  EXPECT_EQ(first_issue(plan), "passes[1].interventions[0].source_pass: pass 'clean' does not save "
                               "'blocks.0.hook_resid_pre'");
  plan.passes[1].interventions[0].source_pass = "ghost";
  EXPECT_EQ(first_issue(plan), "passes[1].interventions[0].source_pass: no pass named 'ghost'");
  plan.passes[1].interventions[0] = zero_at("blocks.0.hook_resid_pre");
  plan.passes[1].interventions[0].factor = 2.0;
  EXPECT_EQ(first_issue(plan), "passes[1].interventions[0].factor: not used by action 'zero'");
  plan.passes[1].metrics[0].normalize->clean_pass = "corrupt2";
  plan.passes[1].interventions.clear();
  EXPECT_EQ(first_issue(plan), "passes[1].metrics[0].normalize.clean_pass: no pass named 'corrupt2'");
}

TEST(ValidatePlan, FreezeReadsACleanRunOfTheSameBatch) {
  HookPlan plan = smollm_plan();
  plan.passes[0].saves.push_back(Save{"blocks.2.attn.hook_pattern", {}, false});
  plan.passes[1].interventions.push_back(
      Intervention{.hook = "blocks.2.attn.hook_pattern", .action = Action::Freeze, .source_pass = "clean"});
  EXPECT_EQ(first_issue(plan), "passes[1].interventions[0].source_pass: freeze reads a clean run (no "
                               "interventions) of the same batch 'corrupt'");
  plan.passes[1].interventions[0].source_pass.clear();  // resolved by the optimizer
  EXPECT_EQ(first_issue(plan), "valid");
}

TEST(ValidatePlan, PatchCyclesAreRejected) {
  HookPlan plan = smollm_plan();
  testing::drop_sweeps(plan);
  plan.experiments.clear();
  plan.passes[1].saves.push_back(Save{"blocks.1.attn.hook_z", {}, false});
  plan.passes[0].interventions.push_back(
      Intervention{.hook = "blocks.1.attn.hook_z", .action = Action::PatchFrom, .source_pass = "corrupt"});
  plan.passes[1].interventions.push_back(
      Intervention{.hook = "blocks.1.attn.hook_z", .action = Action::PatchFrom, .source_pass = "clean"});
  EXPECT_EQ(first_issue(plan), "passes[0]: pass 'clean' is on a cycle of activation references "
                               "(patch_from, ablation or freeze sources)");
}

TEST(ValidatePlan, Metrics) {
  HookPlan plan = smollm_plan();
  plan.passes[1].metrics[0].answers.pop_back();
  EXPECT_EQ(first_issue(plan), "passes[1].metrics[0].answers: has 3 ids but batch 'corrupt' has 4 rows");
  plan = smollm_plan();
  plan.passes[1].metrics[0].position.index = {-1, -2};
  EXPECT_EQ(first_issue(plan), "passes[1].metrics[0].position: a metric reads one position per row");
  plan = smollm_plan();
  plan.passes[1].metrics.push_back(Metric{.name = "kl", .kind = MetricKind::Kl});
  EXPECT_EQ(first_issue(plan), "passes[1].metrics[1]: kl needs a reference_pass");
  plan.passes[1].metrics[1].reference_pass = "clean";
  EXPECT_EQ(first_issue(plan), "valid");
  plan.batches[0].rows[1].push_back(3);
  EXPECT_EQ(first_issue(plan), "passes[1].metrics[1].reference_pass: row 1 of pass 'clean' has 9 "
                               "tokens but this pass's has 8");
}

TEST(ValidatePlan, Sweeps) {
  HookPlan plan = smollm_plan();
  plan.sweeps[0].layers.push_back(30);
  EXPECT_EQ(first_issue(plan), "sweeps[0].layers[30]: 30 is out of range (model has 30 layers)");
  plan = smollm_plan();
  plan.sweeps[0].heads.push_back(9);
  EXPECT_EQ(first_issue(plan), "sweeps[0].heads[9]: 9 is out of range (model has 9 heads)");
  plan = smollm_plan();
  plan.sweeps[0].layers.clear();
  EXPECT_EQ(first_issue(plan), "sweeps[0].intervention.hook: has \"{layer}\" but the sweep has no layers");
  plan = smollm_plan();
  plan.passes[0].saves.pop_back();
  EXPECT_EQ(first_issue(plan), "sweeps[0].intervention.source_pass: pass 'clean' does not save "
                               "'blocks.29.attn.hook_z'");
  plan = smollm_plan();
  plan.experiments[0].sweeps = {"missing"};
  EXPECT_EQ(first_issue(plan), "experiments[0].sweeps[0]: no sweep named 'missing'");
}

TEST(ValidatePlan, Values) {
  HookPlan plan = smollm_plan();
  Intervention steer{.hook = "blocks.4.hook_resid_post", .action = Action::Add};
  steer.value = Tensor{{575}, std::vector<float>(575, 0.5f)};
  plan.passes[1].interventions.push_back(steer);
  EXPECT_EQ(first_issue(plan), "passes[1].interventions[0].value.shape: last dimension 575 does not "
                               "match the selection's 576");
  plan.passes[1].interventions[0].value = Tensor{{576}, std::vector<float>(575, 0.5f)};
  EXPECT_EQ(first_issue(plan), "passes[1].interventions[0].value.data: has 575 elements but the shape "
                               "holds 576");
  plan.passes[1].interventions[0].value = Tensor{{576}, std::vector<float>(576, 0.5f)};
  EXPECT_EQ(first_issue(plan), "valid");
  plan.passes[1].interventions[0].value.data[3] = std::numeric_limits<float>::infinity();
  EXPECT_EQ(first_issue(plan), "passes[1].interventions[0].value.data[3]: must be finite");
}

TEST(ValidatePlan, Limits) {
  const HookPlan plan = smollm_plan();  // 4 prompts of 8 tokens, 270 sweep items
  PlanLimits limits;
  limits.max_rows_per_batch = 3;
  EXPECT_EQ(first_issue(plan, limits), "batches[0].rows: 4 rows exceed the limit of 3");
  limits = PlanLimits{};
  limits.max_passes = 200;
  EXPECT_EQ(first_issue(plan, limits), "sweeps[0]: 270 items exceed the limit of 200 passes");
  limits = PlanLimits{};
  limits.max_total_tokens = 8000;  // (2 + 270) passes x 32 tokens = 8704
  EXPECT_EQ(first_issue(plan, limits), "passes: 8704 tokens over all passes exceed the limit of 8000");
  limits = PlanLimits{};
  limits.max_tokens_per_batch = 31;
  EXPECT_EQ(first_issue(plan, limits), "batches[0].rows: 32 tokens exceed the limit of 31 per batch");
}

TEST(ValidatePlan, ModelShape) {
  HookPlan plan = smollm_plan();
  plan.model.family = "mamba";
  EXPECT_EQ(first_issue(plan), "model.family: unknown family 'mamba' (expected gpt2, llama, gpt-neox "
                               "or attn-only)");
  plan = smollm_plan();
  plan.model.n_kv_heads = 4;
  EXPECT_EQ(first_issue(plan), "model.n_kv_heads: 4 does not divide n_heads (9)");
  plan.model.n_layers = -1;
  EXPECT_EQ(first_issue(plan), "model.n_layers: -1 is out of range (1..16777216)");
}

TEST(ValidatePlan, CollectsSeveralIssuesUpToTheCap) {
  HookPlan plan = smollm_plan();
  for (auto& row : plan.batches[0].rows) row[0] = -1;
  EXPECT_EQ(check_plan(plan).size(), 4u);
  PlanLimits limits;
  limits.max_issues = 2;
  EXPECT_EQ(check_plan(plan, limits).size(), 2u);
}

}  // namespace
}  // namespace circuit::plan
