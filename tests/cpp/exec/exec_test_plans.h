// Helpers the plan executor's tests share: a plan's model shape from a tiny model, token
// batches of random prompts, metrics, and a validated call of execute_plan.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "compiler/plan/hook_plan.h"
#include "compiler/plan/validate_plan.h"
#include "runtime/exec/plan_executor.h"
#include "runtime/model/hooked_model.h"
#include "tests/cpp/runtime/tiny_models.h"

namespace circuit::rt::testing {

inline plan::ModelShape shape_of(const formats::ModelConfig& c) {
  return plan::ModelShape{c.name, formats::family_name(c.family), c.n_layers, c.n_heads, c.n_kv_heads,
                          c.d_model,  c.d_head,                     c.d_mlp,    c.d_vocab, c.n_ctx};
}

// `rows` prompts of `length` tokens (or lengths length, length-1, ... when `ragged`), ids in
// [1, vocab), from `seed`.
inline std::vector<std::vector<std::int32_t>> random_rows(int rows, int length, int vocab, unsigned seed,
                                                          bool ragged = false) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> id(1, vocab - 1);
  std::vector<std::vector<std::int32_t>> out(rows);
  for (int r = 0; r < rows; ++r) {
    const int n = ragged ? std::max(2, length - r % 3) : length;
    for (int i = 0; i < n; ++i) out[r].push_back(id(gen));
  }
  return out;
}

// The same prompts with every token but the last changed: patching all of a run's head outputs
// from the other then reproduces it at the last position.
inline std::vector<std::vector<std::int32_t>> corrupt_rows(std::vector<std::vector<std::int32_t>> rows, int vocab) {
  for (auto& row : rows)
    for (size_t i = 0; i + 1 < row.size(); ++i) row[i] = 1 + (row[i] + 7) % (vocab - 1);
  return rows;
}

inline plan::Metric logit_diff(int rows, int vocab, std::string name = "logit_diff") {
  plan::Metric m;
  m.name = std::move(name);
  m.kind = plan::MetricKind::LogitDiff;
  for (int r = 0; r < rows; ++r) {
    m.answers.push_back((3 * r + 1) % vocab);
    m.wrong_answers.push_back((5 * r + 2) % vocab);
  }
  return m;
}

inline plan::Pass clean_pass(std::string name, std::string batch, std::vector<std::string> saves,
                             std::vector<plan::Metric> metrics) {
  plan::Pass p;
  p.name = std::move(name);
  p.batch = std::move(batch);
  for (auto& hook : saves) p.saves.push_back(plan::Save{hook, {}, true});
  p.metrics = std::move(metrics);
  return p;
}

inline plan::HookPlan base_plan(const HookedModel& model, std::vector<plan::TokenBatch> batches) {
  plan::HookPlan plan;
  plan.model = shape_of(model.config());
  plan.batches = std::move(batches);
  return plan;
}

// Validates first, as a caller of the executor must.
inline PlanResults run_valid(const HookedModel& model, const plan::HookPlan& plan, const ExecutionOptions& options = {}) {
  plan::validate_plan(plan);
  return execute_plan(model, plan, options);
}

inline void expect_close(const std::vector<double>& a, const std::vector<double>& b, double tolerance,
                         const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], tolerance) << what << " row " << i;
}

inline std::string z_hook(int layer) { return "blocks." + std::to_string(layer) + ".attn.hook_z"; }

}  // namespace circuit::rt::testing
