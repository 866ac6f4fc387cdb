#include "runtime/analysis/path_patching.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "node_fixtures.h"
#include "runtime/analysis/analysis_runs.h"
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

// --- Resumed forwards equal the full ones ---

// A receiver as the analysis names it and as the hook point the full computation patches.
struct Receiver {
  std::string name;
  std::string hook;
  std::vector<std::int64_t> heads;  // empty: the whole activation
};

struct Scores {
  std::vector<double> values;
  double clean = 0, corrupt = 0;
};

// The computation that path patching resumes, by hand: for each sender alone, a full forward
// with every head frozen (the sender from the corrupt run or ablated) recording the receivers'
// inputs, and a full clean forward with those inputs let in.
Scores full_forward_scores(const HookedModel& model, const AnalysisCase& c, const std::vector<Receiver>& receivers) {
  const auto& cfg = model.config();
  const plan::Metric& metric = *c.analysis.metric;
  TokenBatch clean = to_token_batch(c.clean, cfg);
  auto measure = [&](const at::Tensor& logits, const TokenBatch& batch) {
    return metric_per_row(logits, batch, metric, {}, at::Tensor()).mean().item<double>();
  };
  auto zc = z_of(model, clean);
  std::vector<at::Tensor> zx;
  Scores out;
  out.clean = measure(model.forward(clean), clean);
  if (c.analysis.ablation == plan::Ablation::Patch) {
    plan::TokenBatch corrupt_rows = c.corrupt;
    corrupt_rows.pad_side = c.clean.pad_side;
    TokenBatch corrupt = to_token_batch(corrupt_rows, cfg);
    zx = z_of(model, corrupt);
    out.corrupt = measure(model.forward(corrupt), corrupt);
  } else {
    HookSet ablated(cfg);
    for (int l = 0; l < cfg.n_layers; ++l) {
      zx.push_back(c.analysis.ablation == plan::Ablation::Mean ? zc[l].mean(0, true).expand_as(zc[l]).contiguous()
                                                               : at::zeros_like(zc[l]));
      ablated.replace({formats::HookKind::Z, l}, zx.back());
    }
    out.corrupt = measure(model.forward(clean, &ablated), clean);
  }
  at::Tensor where = position_mask(clean, c.analysis.positions, c.analysis).unsqueeze(-1);
  for (int l = 0; l < cfg.n_layers; ++l) {
    for (int h = 0; h < cfg.n_heads; ++h) {
      HookSet freeze(cfg);
      for (int k = 0; k < cfg.n_layers; ++k) {
        at::Tensor value = zc[k].clone();
        if (k == l) value.select(2, h).copy_(at::where(where, zx[k].select(2, h), zc[k].select(2, h)));
        freeze.replace({formats::HookKind::Z, k}, value);
      }
      for (const Receiver& r : receivers) freeze.cache(r.hook);
      model.forward(clean, &freeze);
      HookSet patch(cfg);
      for (const Receiver& r : receivers) {
        Selection selection;
        selection.heads = r.heads;
        patch.replace(patch.ref(r.hook), freeze.cached(r.hook), selection);
      }
      const double m = measure(model.forward(clean, &patch), clean);
      out.values.push_back(metric.normalize ? normalize_metric(m, out.clean, out.corrupt) : m);
    }
  }
  return out;
}

// Clean prompts of lengths 7, 5, 7 (padded) and corrupt ones equal to them up to prompt index
// `same` (so that the resumed forwards start at a later column), different after.
AnalysisCase shared_prefix_case(int same, plan::PadSide side = plan::PadSide::Left) {
  AnalysisCase c;
  c.analysis.name = "paths";
  c.analysis.kind = plan::AnalysisKind::PathPatching;
  auto clean = testing::random_prompts({7, 5, 7}, 0, 50, 31);
  auto corrupt = clean;
  for (auto& row : corrupt)
    for (size_t i = static_cast<size_t>(same); i < row.size(); ++i) row[i] = (row[i] + 1 + static_cast<int>(i)) % 50;
  c.clean = testing::plan_batch("clean", clean, side);
  c.corrupt = testing::plan_batch("corrupt", corrupt, side);
  c.has_corrupt = true;
  c.analysis.metric = testing::logit_diff_metric(3, 50, 33, /*normalize=*/true);
  return c;
}

// Receivers of three kinds in both layers; the MLP ones only where the model has MLPs.
std::vector<std::vector<Receiver>> receiver_sets(const HookedModel& model) {
  const auto& cfg = model.config();
  const std::int64_t groups = cfg.n_heads / cfg.n_kv_heads;
  std::vector<std::vector<Receiver>> sets = {
      {{"a1.h2<q>", "blocks.1.attn.hook_q_input", {2}}, {"a1.h3<k>", "blocks.1.attn.hook_k_input", {3 / groups}}},
      {{"a1.h0<v>", "blocks.1.attn.hook_v_input", {0}}, {"logits", "blocks.1.hook_resid_post", {}}},
  };
  if (cfg.d_mlp > 0) {
    sets.push_back({{"m0", "blocks.0.hook_mlp_in", {}}, {"a1.h1<q>", "blocks.1.attn.hook_q_input", {1}}});
    sets.push_back({{"m1", "blocks.1.hook_mlp_in", {}}});
  }
  return sets;
}

void expect_equal_to_full_forwards(const HookedModel& model, AnalysisCase c, const std::vector<Receiver>& receivers,
                                   const std::string& what) {
  c.analysis.receivers.clear();
  for (const Receiver& r : receivers) c.analysis.receivers.push_back(r.name);
  const Scores expected = full_forward_scores(model, c, receivers);
  // Float32 sums in another order (resumed, stacked) differ by a few ulps of the value: a score
  // near 5 moves by about 1e-5 with this machine's matmul kernels, so the bound is relative.
  auto near = [](double expected) { return 1e-5 * std::max(1.0, std::abs(expected)); };
  for (std::int64_t budget : {std::int64_t{0}, std::int64_t{1}}) {  // every sender stacked; one per forward
    c.options.memory_budget_bytes = budget;
    AnalysisResult r = path_patching(c.context(model));
    ASSERT_EQ(r.nodes.values.size(), expected.values.size()) << what;
    for (size_t i = 0; i < expected.values.size(); ++i)
      EXPECT_NEAR(r.nodes.values[i], expected.values[i], near(expected.values[i])) << what << " " << r.nodes.names[i] << " budget " << budget;
    EXPECT_NEAR(r.values.at("clean"), expected.clean, near(expected.clean)) << what;
    EXPECT_NEAR(r.values.at("corrupt"), expected.corrupt, near(expected.corrupt)) << what;
  }
}

class ResumedPathPatching : public ::testing::TestWithParam<formats::Family> {};

TEST_P(ResumedPathPatching, EqualsFullForwardsForEveryAblationAndReceiverSet) {
  HookedModel model = testing::tiny_model(GetParam());
  for (plan::Ablation ablation : {plan::Ablation::Patch, plan::Ablation::Mean, plan::Ablation::Zero}) {
    AnalysisCase c = shared_prefix_case(3);
    c.analysis.ablation = ablation;
    c.has_corrupt = ablation == plan::Ablation::Patch;
    const auto sets = receiver_sets(model);
    for (size_t k = 0; k < sets.size(); ++k)
      expect_equal_to_full_forwards(model, c, sets[k], "ablation " + std::to_string(static_cast<int>(ablation)) +
                                                           " receivers " + std::to_string(k));
  }
}

// Right padding, the sender patched at two positions only, and a metric read before the last
// column, also when the corrupt prompts differ from the clean ones only after that column (no
// sender moves it: unnormalized, since clean and corrupt then agree).
TEST_P(ResumedPathPatching, EqualsFullForwardsWithPositionsAndEarlierMetric) {
  HookedModel model = testing::tiny_model(GetParam());
  const auto sets = receiver_sets(model);
  AnalysisCase right = shared_prefix_case(2, plan::PadSide::Right);
  right.analysis.positions.index = {-1, 2};
  expect_equal_to_full_forwards(model, right, sets[1], "right padding, positions");
  AnalysisCase earlier = shared_prefix_case(3);
  earlier.analysis.metric->position.index = {-2};
  expect_equal_to_full_forwards(model, earlier, sets[1], "metric at -2");
  AnalysisCase late = shared_prefix_case(6);
  late.analysis.metric->position.index = {-2};
  late.analysis.metric->normalize.reset();
  expect_equal_to_full_forwards(model, late, sets[0], "metric at -2, corrupt after it");
}

INSTANTIATE_TEST_SUITE_P(Families, ResumedPathPatching,
                         ::testing::Values(formats::Family::Gpt2, formats::Family::Llama, formats::Family::GptNeoX,
                                           formats::Family::AttnOnly));

// --- Stopping a forward after a layer (HookedModel::forward_until / forward_from_until) ---

TEST(ForwardUntil, StopsAfterTheLayerWithTheFullForwardsResidual) {
  HookedModel model = testing::tiny_model(formats::Family::Llama);
  const auto& cfg = model.config();
  TokenBatch batch = to_token_batch(testing::plan_batch("b", testing::random_prompts({7, 5, 6}, 0, 50, 41)), cfg);
  HookSet full(cfg);
  full.cache("blocks.0.hook_resid_post");
  full.cache("blocks.1.hook_resid_post");
  full.cache("blocks.0.attn.hook_z");
  model.forward(batch, &full);

  HookSet until(cfg);
  until.cache("blocks.0.attn.hook_z");
  at::Tensor x = model.forward_until(batch, 0, &until);
  EXPECT_TRUE(at::allclose(x, full.cached("blocks.0.hook_resid_post"), 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(until.cached("blocks.0.attn.hook_z"), full.cached("blocks.0.attn.hook_z"), 1e-5, 1e-6));

  // Resumed at layer 1, column 3, for rows 2, 0, 2: columns 3.. of those rows.
  PrefixCache cache = model.forward_with_cache(batch);
  at::Tensor resumed = model.forward_from_until(cache, {2, 0, 2}, {1, 3}, 1);
  at::Tensor expected =
      full.cached("blocks.1.hook_resid_post").index_select(0, at::tensor({2, 0, 2}, at::kLong)).narrow(1, 3, 4);
  ASSERT_EQ(resumed.sizes(), expected.sizes());
  EXPECT_TRUE(at::allclose(resumed, expected, 1e-5, 1e-5));
}

TEST(ForwardUntil, RefusesHooksAboveTheStopAndLayersOutOfRange) {
  HookedModel model = testing::tiny_model(formats::Family::Gpt2);
  const auto& cfg = model.config();
  TokenBatch batch = to_token_batch(testing::plan_batch("b", testing::random_prompts({6, 6}, 0, 50, 43)), cfg);
  HookSet later(cfg);
  later.cache("blocks.1.hook_resid_pre");
  try {
    model.forward_until(batch, 0, &later);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "hook point 'blocks.1.hook_resid_pre' is above the stop layer 0 and would not run");
  }
  HookSet logits(cfg);
  logits.cache({formats::HookKind::Logits, -1});
  EXPECT_THROW(model.forward_until(batch, 1, &logits), std::invalid_argument);
  HookSet embed(cfg);
  embed.cache({formats::HookKind::Embed, -1});
  EXPECT_NO_THROW(model.forward_until(batch, 0, &embed));
  EXPECT_THROW(model.forward_until(batch, 2), std::invalid_argument);
  EXPECT_THROW(model.forward_until(batch, -1), std::invalid_argument);
  PrefixCache cache = model.forward_with_cache(batch);
  EXPECT_THROW(model.forward_from_until(cache, {0, 1}, {1, 0}, 0), std::invalid_argument);  // before the resume layer
}

}  // namespace
}  // namespace circuit::rt
