// The memory budget bounds everything a run keeps: a plan whose saves outgrow it is refused
// before anything runs, from the plan alone (SmolLM2-135M's shape, no weights), with the
// numbers in one line; the executor refuses before its first forward; what earlier stages hold
// counts; and its own accounting refuses what outgrows the budget as it is held.
#include <gtest/gtest.h>

#include <chrono>

#include "runtime/exec/memory_ledger.h"
#include "runtime/exec/run_memory.h"
#include "tests/cpp/exec/exec_test_plans.h"

namespace circuit::rt::testing {
namespace {

// SmolLM2-135M: 30 layers of 9 heads (3 kv heads) of 64, d_model 576, MLP 1536, 49,152 tokens.
plan::HookPlan smollm2_plan(int prompts, int tokens) {
  plan::HookPlan plan;
  plan.model = {"SmolLM2-135M-Instruct", "llama", 30, 9, 3, 576, 64, 1536, 49152, 8192};
  plan::TokenBatch batch{"task", {}, plan::PadSide::Right, false};
  batch.rows.assign(static_cast<size_t>(prompts), std::vector<std::int32_t>(static_cast<size_t>(tokens), 1));
  plan.batches.push_back(std::move(batch));
  return plan;
}

// What `attention(task, over: heads *)` lowers to: every layer's pattern, every head.
plan::HookPlan attention_plan(int prompts, int tokens) {
  plan::HookPlan plan = smollm2_plan(prompts, tokens);
  plan::Pass pass = clean_pass("patterns", "task", {}, {});
  for (int l = 0; l < 30; ++l) pass.saves.push_back({"blocks." + std::to_string(l) + ".attn.hook_pattern", {}, true});
  plan.passes.push_back(pass);
  plan.experiments.push_back({"patterns", "attention", {"patterns"}, {}, true, {}});
  return plan;
}

// What `cache(task, at: heads *)` lowers to: every layer's head outputs.
plan::HookPlan cache_plan(int prompts, int tokens) {
  plan::HookPlan plan = smollm2_plan(prompts, tokens);
  plan::Pass pass = clean_pass("cached", "task", {}, {});
  for (int l = 0; l < 30; ++l) pass.saves.push_back({z_hook(l), {}, true});
  plan.passes.push_back(pass);
  plan.experiments.push_back({"cached", "cache", {"cached"}, {}, true, {}});
  return plan;
}

// The error check_kept_bytes throws under `options`, after checking it came quickly.
std::string refusal(const plan::HookPlan& plan, const ExecutionOptions& options = {}) {
  const auto start = std::chrono::steady_clock::now();
  try {
    check_kept_bytes(plan, 4, options);
  } catch (const std::invalid_argument& e) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(seconds, 1.0);
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    EXPECT_NE(what.find("over the 4 GiB memory budget"), std::string::npos) << what;
    EXPECT_NE(what.find("fewer prompts"), std::string::npos) << what;
    EXPECT_NE(what.find("--memory-budget"), std::string::npos) << what;
    return what;
  }
  ADD_FAILURE() << "expected the plan to be refused";
  return "";
}

TEST(RunBudget, SmolLM2AttentionOver2048PromptsIsRefusedUpFront) {
  const plan::HookPlan plan = attention_plan(2048, 501);
  plan::validate_plan(plan);
  // The patterns alone, as the f32 results hold them: 30 x 9 x 501 x 501 x 2048 x 4 bytes.
  const std::int64_t patterns = std::int64_t{30} * 9 * 501 * 501 * 2048 * 4;
  EXPECT_EQ(patterns, 555174051840);
  const KeptEstimate estimate = estimate_kept_bytes(plan, 4, {});
  EXPECT_GE(estimate.peak, patterns);
  const std::string what = refusal(plan);
  EXPECT_NE(what.find("passes[0] 'patterns' (2048 rows x 501 tokens: 30 saves)"), std::string::npos) << what;
  EXPECT_NE(what.find("TiB"), std::string::npos) << what;
}

TEST(RunBudget, SmolLM2CacheOfEveryHeadIsRefusedUpFront) {
  const plan::HookPlan plan = cache_plan(2048, 501);
  plan::validate_plan(plan);
  const std::int64_t outputs = std::int64_t{30} * 2048 * 501 * 9 * 64 * 4;  // about 70.9 GB
  EXPECT_GE(estimate_kept_bytes(plan, 4, {}).peak, outputs);
  const std::string what = refusal(plan);
  EXPECT_NE(what.find("passes[0] 'cached'"), std::string::npos) << what;
}

TEST(RunBudget, ASmallTaskFitsAndTheEstimateGrowsWithIt) {
  const KeptEstimate small = check_kept_bytes(attention_plan(8, 21), 4, {});
  const KeptEstimate larger = estimate_kept_bytes(attention_plan(16, 21), 4, {});
  EXPECT_GT(small.peak, std::int64_t{30} * 9 * 21 * 21 * 8 * 4);
  EXPECT_LT(small.peak, std::int64_t{64} << 20);
  EXPECT_GT(larger.peak, small.peak);
  ExecutionOptions unlimited;
  unlimited.memory_budget_bytes = 0;
  EXPECT_NO_THROW(check_kept_bytes(attention_plan(2048, 501), 4, unlimited));
}

TEST(RunBudget, EarlierStagesResultsCount) {
  ExecutionOptions options;
  options.held_bytes = (std::int64_t{4} << 30) - 1000;  // a stage before this one kept nearly all
  const std::string what = refusal(attention_plan(8, 21), options);
  EXPECT_NE(what.find("earlier stages' results"), std::string::npos) << what;
}

TEST(RunBudget, TheExecutorRefusesBeforeItsFirstForward) {
  const HookedModel model = tiny_model(formats::Family::AttnOnly);
  const auto& c = model.config();
  plan::HookPlan plan = base_plan(model, {plan::TokenBatch{"clean", random_rows(64, 12, c.d_vocab, 5),
                                                           plan::PadSide::Right, false}});
  std::vector<std::string> hooks;
  for (int l = 0; l < c.n_layers; ++l) hooks.push_back("blocks." + std::to_string(l) + ".attn.hook_pattern");
  plan.passes.push_back(clean_pass("patterns", "clean", hooks, {logit_diff(64, c.d_vocab)}));
  ExecutionOptions options;
  options.memory_budget_bytes = 64 << 10;  // each row fits; all of them do not
  int forwards = 0;
  options.progress = [&](std::int64_t, std::int64_t, const std::string&) { ++forwards; };
  try {
    run_valid(model, plan, options);
    FAIL() << "expected the budget error";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("the run would keep"), std::string::npos) << what;
    EXPECT_NE(what.find("over the 64 KiB memory budget"), std::string::npos) << what;
  }
  EXPECT_EQ(forwards, 0);
  // Within the budget, the same plan runs, its forwards chunked into what the saves leave.
  options.memory_budget_bytes = 16 << 20;
  const PlanResults results = run_valid(model, plan, options);
  EXPECT_EQ(results.pass("patterns")->saves.at(hooks[0]).shape[0], 64);
}

TEST(RunBudget, TheLedgerRefusesWhatOutgrowsTheBudget) {
  MemoryLedger ledger(1000, 600);
  EXPECT_NO_THROW(ledger.hold(400, "a"));
  EXPECT_EQ(ledger.held(), 1000);
  try {
    ledger.check(1, "passes[1] 'b' after 2 of 4 rows: 1 bytes of saves");
    FAIL() << "expected the budget error";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("the run would keep 1001 bytes (passes[1] 'b'"), std::string::npos) << what;
    EXPECT_NE(what.find("over the 1000 bytes memory budget"), std::string::npos) << what;
  }
  ledger.release(500);
  EXPECT_NO_THROW(ledger.check(500, "c"));
  PlanResults r;
  r.passes.push_back({"p", {{"m", plan::MetricKind::Logprob, {1.0, 2.0}, 1.5}}, {{"h", {{2, 3}, std::vector<float>(6)}}}, {}});
  EXPECT_EQ(results_bytes(r), 2 * 6 * 4 + 2 * (8 + 64));
}

}  // namespace
}  // namespace circuit::rt::testing
