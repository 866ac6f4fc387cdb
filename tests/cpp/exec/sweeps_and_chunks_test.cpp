// Sweeps reported per item, chunked execution equal to unchunked, the budget error before any
// forward, cancellation, gradients, and cache reuse equal to full forwards.
#include <gtest/gtest.h>

#include <atomic>

#include "compiler/optimize/expand_sweeps.h"
#include "compiler/optimize/optimize_plan.h"
#include "runtime/exec/plan_executor.h"
#include "tests/cpp/exec/exec_test_plans.h"

namespace circuit::rt::testing {
namespace {

using formats::Family;

// clean + corrupt runs and an all-heads sweep patching clean z into corrupt at `positions`.
plan::HookPlan heads_sweep_plan(const HookedModel& model, int rows, plan::PadSide side, bool ragged,
                                std::vector<int> positions = {-1}) {
  const auto& c = model.config();
  auto prompts = random_rows(rows, 9, c.d_vocab, 31, ragged);
  plan::HookPlan plan = base_plan(model, {plan::TokenBatch{"clean", prompts, side, false},
                                          plan::TokenBatch{"corrupt", corrupt_rows(prompts, c.d_vocab), side, false}});
  plan::Metric metric = logit_diff(rows, c.d_vocab);
  metric.normalize = plan::Normalize{"clean", "corrupt"};
  plan::Pass clean = clean_pass("clean", "clean", {}, {metric});
  for (int l = 0; l < c.n_layers; ++l) clean.saves.push_back(plan::Save{z_hook(l), {}, false});
  plan.passes.push_back(clean);
  plan.passes.push_back(clean_pass("corrupt", "corrupt", {}, {metric}));
  plan::Sweep sweep;
  sweep.name = "heads";
  sweep.target_pass = "corrupt";
  sweep.intervention.hook = "blocks.{layer}.attn.hook_z";
  sweep.intervention.action = plan::Action::PatchFrom;
  sweep.intervention.source_pass = "clean";
  for (int l = 0; l < c.n_layers; ++l) sweep.layers.push_back(l);
  for (int h = 0; h < c.n_heads; ++h) sweep.heads.push_back(h);
  sweep.positions = positions;
  plan.sweeps.push_back(sweep);
  plan.experiments.push_back(plan::Experiment{"patching", "activation_patching", {"clean", "corrupt"}, {"heads"}, true, {}});
  return plan;
}

std::vector<double> item_values(const SweepResult& s) {
  std::vector<double> out;
  for (const auto& item : s.items) out.push_back(item.value);
  return out;
}

TEST(Sweeps, StackedSweepEqualsOneForwardPerItem) {
  const HookedModel model = tiny_model(Family::Gpt2);
  plan::HookPlan plan = heads_sweep_plan(model, 3, plan::PadSide::Right, /*ragged=*/true);
  PlanResults stacked = run_valid(model, plan);  // the executor stacks the sweep itself
  PlanResults expanded = run_valid(model, plan::expand_sweeps(plan, {}));
  const SweepResult* s = stacked.sweep("heads");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->hook, "blocks.{layer}.attn.hook_z");
  EXPECT_EQ(s->metric, "logit_diff");
  ASSERT_EQ(s->items.size(), 8u);
  EXPECT_EQ(s->items[5].layer, 1);
  EXPECT_EQ(s->items[5].head, 1);
  expect_close(item_values(*s), item_values(*expanded.sweep("heads")), 1e-5, "stacked vs expanded");
  EXPECT_LT(stacked.forwards, expanded.forwards);
  // Optimized: the same numbers, and the pattern read back from the stacked passes.
  PlanResults optimized = run_valid(model, plan::optimize_plan(plan, {}));
  EXPECT_EQ(optimized.sweep("heads")->hook, "blocks.{layer}.attn.hook_z");
  expect_close(item_values(*optimized.sweep("heads")), item_values(*s), 1e-5, "optimized");
}

TEST(Sweeps, ChunkedExecutionEqualsUnchunked) {
  const HookedModel model = tiny_model(Family::Llama);
  plan::HookPlan plan = plan::optimize_plan(heads_sweep_plan(model, 4, plan::PadSide::Left, true), {});
  ExecutionOptions whole;
  whole.reuse_caches = false;
  ExecutionOptions chunked = whole;
  chunked.memory_budget_bytes = 60000;  // a few rows per forward
  PlanResults a = run_valid(model, plan, whole);
  PlanResults b = run_valid(model, plan, chunked);
  EXPECT_GT(b.forwards, a.forwards);
  expect_close(item_values(*b.sweep("heads")), item_values(*a.sweep("heads")), 1e-5, "chunked sweep");
  for (size_t i = 0; i < a.passes.size(); ++i)
    expect_close(b.passes[i].metrics[0].per_row, a.passes[i].metrics[0].per_row, 1e-5, a.passes[i].name);
}

TEST(Sweeps, CacheReuseEqualsFullForwards) {
  for (Family family : {Family::Gpt2, Family::Llama, Family::GptNeoX, Family::AttnOnly}) {
    for (plan::PadSide side : {plan::PadSide::Left, plan::PadSide::Right}) {
      const HookedModel model = tiny_model(family);
      for (std::vector<int> positions : {std::vector<int>{-1}, std::vector<int>{3}, std::vector<int>{}}) {
        plan::HookPlan plan = plan::optimize_plan(heads_sweep_plan(model, 3, side, true, positions), {});
        ExecutionOptions full;
        full.reuse_caches = false;
        PlanResults reused = run_valid(model, plan);
        PlanResults plain = run_valid(model, plan, full);
        const std::string what = std::string(formats::family_name(family)) +
                                 (side == plan::PadSide::Left ? " left" : " right") + " positions " +
                                 std::to_string(positions.size());
        expect_close(item_values(*reused.sweep("heads")), item_values(*plain.sweep("heads")), 1e-4, what);
        // Every sweep forward resumes but where layer 0 is patched at every position (nothing to skip).
        EXPECT_EQ(reused.resumed_forwards, positions.empty() ? 0 : reused.forwards - 2) << what;
        EXPECT_EQ(plain.resumed_forwards, 0) << what;
      }
    }
  }
}

TEST(Sweeps, ResumingAtTheEmbeddingOrAfterTheBlocksEqualsFullForwards) {
  const HookedModel model = tiny_model(Family::Gpt2);
  const auto& c = model.config();
  plan::HookPlan plan = base_plan(model, {plan::TokenBatch{"clean", random_rows(3, 8, c.d_vocab, 33, true),
                                                           plan::PadSide::Left, false}});
  plan.passes.push_back(clean_pass("clean", "clean", {}, {logit_diff(3, c.d_vocab)}));
  for (const char* hook : {"hook_embed", "ln_final.hook_normalized", "blocks.1.hook_resid_mid"}) {
    plan::Pass p = clean_pass(std::string("scaled ") + hook, "clean", {}, {logit_diff(3, c.d_vocab)});
    plan::Intervention in;
    in.hook = hook;
    in.action = plan::Action::Scale;
    in.factor = 0.5;
    in.select.positions.index = {-1};
    p.interventions = {in};
    p.annotations.cache_from = "clean";  // as annotate_cache_reuse would write it
    plan.passes.push_back(p);
  }
  ExecutionOptions full;
  full.reuse_caches = false;
  PlanResults reused = run_valid(model, plan);
  PlanResults plain = run_valid(model, plan, full);
  EXPECT_EQ(reused.resumed_forwards, 3);
  for (size_t i = 1; i < plan.passes.size(); ++i) {
    expect_close(reused.passes[i].metrics[0].per_row, plain.passes[i].metrics[0].per_row, 1e-5, plan.passes[i].name);
    EXPECT_GT(std::abs(plain.passes[i].metrics[0].mean - plain.passes[0].metrics[0].mean), 1e-6) << plan.passes[i].name;
  }
}

TEST(Sweeps, OverBudgetPlanFailsWithOneLineBeforeRunning) {
  const HookedModel model = tiny_model(Family::Gpt2);
  plan::HookPlan plan = plan::optimize_plan(heads_sweep_plan(model, 2, plan::PadSide::Right, false), {});
  ExecutionOptions tiny;
  tiny.memory_budget_bytes = 1000;
  int forwards = 0;
  tiny.progress = [&](int64_t, int64_t, const std::string&) { ++forwards; };
  try {
    run_valid(model, plan, tiny);
    FAIL() << "expected the budget error";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    EXPECT_NE(what.find("passes[0] 'clean'"), std::string::npos) << what;
    EXPECT_NE(what.find("budget"), std::string::npos) << what;
    EXPECT_NE(what.find("one row"), std::string::npos) << what;
  }
  EXPECT_EQ(forwards, 0);
}

TEST(Sweeps, CancelFlagStopsBetweenForwards) {
  const HookedModel model = tiny_model(Family::AttnOnly);
  plan::HookPlan plan = heads_sweep_plan(model, 2, plan::PadSide::Right, false);
  std::atomic<bool> cancel{false};
  ExecutionOptions options;
  options.cancel = &cancel;
  int64_t seen = 0;
  options.progress = [&](int64_t done, int64_t total, const std::string&) {
    seen = done;
    EXPECT_LE(done, total);
    cancel = true;
  };
  EXPECT_THROW(run_valid(model, plan, options), ExecutionCancelled);
  EXPECT_EQ(seen, 1);
}

TEST(Sweeps, GradientsOfAChunkedBackwardEqualTheWholeOne) {
  const HookedModel model = tiny_model(Family::Gpt2);
  const auto& c = model.config();
  plan::HookPlan plan = base_plan(model, {plan::TokenBatch{"clean", random_rows(4, 7, c.d_vocab, 32, true),
                                                           plan::PadSide::Right, false}});
  plan::Pass p = clean_pass("attribution", "clean", {}, {logit_diff(4, c.d_vocab)});
  p.backward = plan::Backward{"logit_diff", {z_hook(0), "blocks.1.hook_resid_pre"}};
  plan.passes.push_back(p);
  ExecutionOptions chunked;
  chunked.memory_budget_bytes = 150000;
  PlanResults a = run_valid(model, plan);
  PlanResults b = run_valid(model, plan, chunked);
  EXPECT_EQ(a.backwards, 1);
  EXPECT_GT(b.backwards, 1);
  for (const auto& [hook, g] : a.pass("attribution")->gradients) {
    const plan::Tensor& h = b.pass("attribution")->gradients.at(hook);
    ASSERT_EQ(g.shape, h.shape) << hook;
    ASSERT_EQ(g.shape[0], 4);
    double norm = 0;
    for (size_t k = 0; k < g.data.size(); ++k) {
      ASSERT_NEAR(g.data[k], h.data[k], 1e-6) << hook;
      norm += std::abs(g.data[k]);
    }
    EXPECT_GT(norm, 0.0) << hook;
  }
}

}  // namespace
}  // namespace circuit::rt::testing
