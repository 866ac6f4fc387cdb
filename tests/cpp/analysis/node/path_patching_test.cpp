#include "runtime/analysis/path_patching.h"

#include <gtest/gtest.h>

#include <cmath>

#include "node_fixtures.h"
#include "runtime/exec/metric.h"
#include "runtime/exec/plan_tensors.h"
#include "runtime/hooks/hook_set.h"
#include "runtime/model/token_batch.h"
#include "tests/cpp/runtime/tiny_models.h"

namespace circuit::rt {
namespace {

using testing::AnalysisCase;

AnalysisCase path_case() {
  AnalysisCase c;
  c.analysis.name = "paths";
  c.analysis.kind = plan::AnalysisKind::PathPatching;
  c.clean = testing::plan_batch("clean", testing::random_prompts({7, 5, 7}, 0, 50, 21));
  c.corrupt = testing::plan_batch("corrupt", testing::random_prompts({7, 5, 7}, 0, 50, 22));
  c.has_corrupt = true;
  c.analysis.metric = testing::logit_diff_metric(3, 50, 23);
  return c;
}

std::vector<at::Tensor> z_of(const HookedModel& model, const TokenBatch& batch) {
  HookSet hooks(model.config());
  for (int l = 0; l < model.config().n_layers; ++l) hooks.cache({formats::HookKind::Z, l});
  model.forward(batch, &hooks);
  std::vector<at::Tensor> z;
  for (int l = 0; l < model.config().n_layers; ++l) z.push_back(hooks.cached(formats::hook_point_name(formats::HookKind::Z, l)));
  return z;
}

class PathPatching : public ::testing::TestWithParam<formats::Family> {};

// Receivers = logits: one forward with the sender from the corrupt run and every other head
// frozen to the clean run (direct-effect patching).
TEST_P(PathPatching, LogitsReceiverIsDirectEffectPatching) {
  HookedModel model = testing::tiny_model(GetParam());
  AnalysisCase c = path_case();
  c.analysis.receivers = {"logits"};
  AnalysisResult r = path_patching(c.context(model));
  const auto& cfg = model.config();
  ASSERT_EQ(r.nodes.names.size(), static_cast<size_t>(cfg.n_layers * cfg.n_heads));
  TokenBatch clean = to_token_batch(c.clean, cfg), corrupt = to_token_batch(c.corrupt, cfg);
  auto zc = z_of(model, clean), zx = z_of(model, corrupt);
  for (int l = 0; l < cfg.n_layers; ++l) {
    for (int h = 0; h < cfg.n_heads; ++h) {
      HookSet hooks(cfg);
      for (int k = 0; k < cfg.n_layers; ++k) {
        at::Tensor value = zc[k].clone();
        if (k == l) value.select(2, h).copy_(zx[k].select(2, h));
        hooks.replace({formats::HookKind::Z, k}, value);
      }
      const double expected =
          metric_per_row(model.forward(clean, &hooks), clean, *c.analysis.metric, {}, at::Tensor()).mean().item<double>();
      EXPECT_NEAR(r.nodes.values[l * cfg.n_heads + h], expected, 1e-4) << l << "." << h;
    }
  }
  EXPECT_EQ(r.tensors.at("scores").shape, (std::vector<std::int64_t>{cfg.n_layers, cfg.n_heads}));
}

INSTANTIATE_TEST_SUITE_P(Families, PathPatching,
                         ::testing::Values(formats::Family::Gpt2, formats::Family::Llama, formats::Family::AttnOnly));

// Through a head's query: a sender in the receiver's layer or above cannot reach it (the score
// is the clean metric: 1 when normalized); stacking and chunking change nothing.
TEST(PathPatchingReceivers, QueryReceiverSeesOnlyEarlierSenders) {
  HookedModel model = testing::tiny_model(formats::Family::Gpt2);
  AnalysisCase c = path_case();
  c.analysis.metric->normalize = plan::Normalize{"clean", "corrupt"};
  c.analysis.receivers = {"a1.h2<q>", "a1.h3<k>"};
  AnalysisResult stacked = path_patching(c.context(model));
  c.options.memory_budget_bytes = 1;  // one sender per forward
  AnalysisResult chunked = path_patching(c.context(model));
  ASSERT_EQ(stacked.nodes.values.size(), 8u);
  for (size_t i = 0; i < 8; ++i) EXPECT_NEAR(stacked.nodes.values[i], chunked.nodes.values[i], 1e-5);
  for (size_t i = 4; i < 8; ++i) EXPECT_NEAR(stacked.nodes.values[i], 1.0, 1e-5);
  double moved = 0;
  for (size_t i = 0; i < 4; ++i) moved += std::abs(stacked.nodes.values[i] - 1.0);
  EXPECT_GT(moved, 1e-3);

  // By hand for sender a0.h1: record head 1.2's query input and head 1.3's key input under the
  // frozen run, then let them into a clean run.
  const auto& cfg = model.config();
  TokenBatch clean = to_token_batch(c.clean, cfg), corrupt = to_token_batch(c.corrupt, cfg);
  auto zc = z_of(model, clean), zx = z_of(model, corrupt);
  HookSet freeze(cfg);
  for (int k = 0; k < cfg.n_layers; ++k) {
    at::Tensor value = zc[k].clone();
    if (k == 0) value.select(2, 1).copy_(zx[0].select(2, 1));
    freeze.replace({formats::HookKind::Z, k}, value);
  }
  freeze.cache("blocks.1.attn.hook_q_input");
  freeze.cache("blocks.1.attn.hook_k_input");
  model.forward(clean, &freeze);
  HookSet patch(cfg);
  Selection q, k;
  q.heads = {2};
  k.heads = {3};
  patch.replace(patch.ref("blocks.1.attn.hook_q_input"), freeze.cached("blocks.1.attn.hook_q_input"), q);
  patch.replace(patch.ref("blocks.1.attn.hook_k_input"), freeze.cached("blocks.1.attn.hook_k_input"), k);
  const double m = metric_per_row(model.forward(clean, &patch), clean, *c.analysis.metric, {}, at::Tensor())
                       .mean().item<double>();
  EXPECT_NEAR(stacked.nodes.values[1], normalize_metric(m, stacked.values.at("clean"), stacked.values.at("corrupt")),
              1e-4);
}

// Zero ablation instead of corrupt prompts: the sender's output is zero in the frozen run.
TEST(PathPatchingReceivers, ZeroAblationZeroesTheSender) {
  HookedModel model = testing::tiny_model(formats::Family::Gpt2);
  AnalysisCase c = path_case();
  c.has_corrupt = false;
  c.analysis.ablation = plan::Ablation::Zero;
  c.analysis.receivers = {"logits"};
  c.analysis.nodes = {"a0.h2"};
  AnalysisResult r = path_patching(c.context(model));
  const auto& cfg = model.config();
  TokenBatch clean = to_token_batch(c.clean, cfg);
  auto zc = z_of(model, clean);
  HookSet hooks(cfg);
  for (int k = 0; k < cfg.n_layers; ++k) {
    at::Tensor value = zc[k].clone();
    if (k == 0) value.select(2, 2).zero_();
    hooks.replace({formats::HookKind::Z, k}, value);
  }
  const double expected =
      metric_per_row(model.forward(clean, &hooks), clean, *c.analysis.metric, {}, at::Tensor()).mean().item<double>();
  ASSERT_EQ(r.nodes.names, (std::vector<std::string>{"a0.h2"}));
  EXPECT_NEAR(r.nodes.values[0], expected, 1e-4);
  EXPECT_TRUE(std::isnan(r.tensors.at("scores").data[0]));
}

TEST(PathPatchingReceivers, BadArgumentsAreOneLineErrors) {
  HookedModel model = testing::tiny_model(formats::Family::Gpt2);
  AnalysisCase c = path_case();
  EXPECT_THROW(path_patching(c.context(model)), std::invalid_argument);  // no receivers
  c.analysis.receivers = {"a1.h9<q>"};
  EXPECT_THROW(path_patching(c.context(model)), std::invalid_argument);
  c.analysis.receivers = {"logits"};
  c.has_corrupt = false;
  try {
    path_patching(c.context(model));
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "analysis 'paths': needs corrupt prompts, and the task has none");
  }
}

}  // namespace
}  // namespace circuit::rt
