#include "runtime/analysis/attribution_patching.h"

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

AnalysisCase atp_case() {
  AnalysisCase c;
  c.analysis.name = "atp";
  c.analysis.kind = plan::AnalysisKind::AttributionPatching;
  c.clean = testing::plan_batch("clean", testing::random_prompts({8, 6, 8}, 0, 50, 31));
  c.corrupt = testing::plan_batch("corrupt", testing::random_prompts({8, 6, 8}, 0, 50, 32));
  c.has_corrupt = true;
  c.analysis.metric = testing::logit_diff_metric(3, 50, 33);
  return c;
}

// Activation patching of one hook point's slice part of the way to the corrupt run (clean +
// fraction * (corrupt - clean), where `where` [rows, seq] allows): the metric's change.
double patched_change(const HookedModel& model, const AnalysisCase& c, const std::string& hook, int head,
                      const at::Tensor& where = at::Tensor(), double fraction = 1.0) {
  const auto& cfg = model.config();
  TokenBatch clean = to_token_batch(c.clean, cfg), corrupt = to_token_batch(c.corrupt, cfg);
  HookSet source(cfg), base(cfg);
  source.cache(hook);
  base.cache(hook);
  model.forward(corrupt, &source);
  model.forward(clean, &base);
  const at::Tensor& from = base.cached(hook);
  at::Tensor value = from + fraction * (source.cached(hook) - from);
  if (where.defined()) {
    std::vector<std::int64_t> shape(value.dim(), 1);
    shape[0] = where.size(0);
    shape[1] = where.size(1);
    value = at::where(where.view(shape), value, from);
  }
  HookSet hooks(cfg);
  Selection selection;
  if (head >= 0) selection.heads = {head};
  hooks.replace(hooks.ref(hook), value, selection);
  auto metric = [&](HookSet* h) {
    return metric_per_row(model.forward(clean, h), clean, *c.analysis.metric, {}, at::Tensor()).mean().item<double>();
  };
  return metric(&hooks) - metric(nullptr);
}

// The metric is linear in the last layer's head outputs when there is no final norm: the
// estimate is exact there.
TEST(AttributionPatching, ExactWhereTheMetricIsLinear) {
  HookedModel model = testing::tiny_model(formats::Family::AttnOnly);
  AnalysisCase c = atp_case();
  c.analysis.nodes = {"a1.h0", "a1.h1", "a1.h2", "a1.h3"};
  AnalysisResult r = attribution_patching(c.context(model));
  ASSERT_EQ(r.nodes.names, c.analysis.nodes);
  for (int h = 0; h < 4; ++h)
    EXPECT_NEAR(r.nodes.values[h], patched_change(model, c, "blocks.1.attn.hook_z", h), 1e-4) << h;
  // Restricted to the last position.
  c.analysis.positions.index = {-1};
  AnalysisResult last = attribution_patching(c.context(model));
  TokenBatch clean = to_token_batch(c.clean, model.config());
  at::Tensor where = at::zeros({3, clean.seq()}, at::kBool);
  where.select(1, clean.seq() - 1).fill_(true);  // left padding: the last column
  for (int h = 0; h < 4; ++h)
    EXPECT_NEAR(last.nodes.values[h], patched_change(model, c, "blocks.1.attn.hook_z", h, where), 1e-4) << h;
}

// Elsewhere it is the first-order term: the metric's change along (corrupt - clean), which a
// small step of activation patching measures by finite differences; every kind of node.
TEST(AttributionPatching, IsTheDirectionalDerivativeOfActivationPatching) {
  HookedModel model = testing::tiny_model(formats::Family::Gpt2);
  AnalysisCase c = atp_case();
  c.analysis.nodes = {"a0.h0", "a0.h3", "m0", "m1", "input"};
  AnalysisResult r = attribution_patching(c.context(model));
  const std::vector<std::pair<std::string, int>> hooks = {{"blocks.0.attn.hook_z", 0}, {"blocks.0.attn.hook_z", 3},
                                                          {"blocks.0.hook_mlp_out", -1}, {"blocks.1.hook_mlp_out", -1},
                                                          {"hook_embed", -1}};
  const double step = 1e-2;
  for (size_t i = 0; i < hooks.size(); ++i) {
    const double slope = (patched_change(model, c, hooks[i].first, hooks[i].second, at::Tensor(), step) -
                          patched_change(model, c, hooks[i].first, hooks[i].second, at::Tensor(), -step)) /
                         (2 * step);
    EXPECT_NEAR(r.nodes.values[i], slope, 1e-2 * std::max(1.0, std::abs(slope))) << r.nodes.names[i];
  }
  EXPECT_EQ(r.tensors.at("mlps").shape, (std::vector<std::int64_t>{2}));
  EXPECT_TRUE(std::isnan(r.tensors.at("scores").data[1]));  // a0.h1 not scored
}

TEST(AttributionPatching, NormalizedAndZeroAblation) {
  HookedModel model = testing::tiny_model(formats::Family::AttnOnly);
  AnalysisCase c = atp_case();
  c.analysis.nodes = {"a1.h1"};
  const double raw = attribution_patching(c.context(model)).nodes.values[0];
  c.analysis.metric->normalize = plan::Normalize{"clean", "corrupt"};
  AnalysisResult n = attribution_patching(c.context(model));
  EXPECT_NEAR(n.nodes.values[0], raw / (n.values.at("clean") - n.values.at("corrupt")), 1e-6);

  c.analysis.metric->normalize.reset();
  c.analysis.ablation = plan::Ablation::Zero;
  c.has_corrupt = false;
  const auto& cfg = model.config();
  TokenBatch clean = to_token_batch(c.clean, cfg);
  HookSet hooks(cfg);
  Selection head;
  head.heads = {1};
  hooks.scale(hooks.ref("blocks.1.attn.hook_z"), 0.0, head);
  auto metric = [&](HookSet* h) {
    return metric_per_row(model.forward(clean, h), clean, *c.analysis.metric, {}, at::Tensor()).mean().item<double>();
  };
  EXPECT_NEAR(attribution_patching(c.context(model)).nodes.values[0], metric(&hooks) - metric(nullptr), 1e-4);
}

}  // namespace
}  // namespace circuit::rt
