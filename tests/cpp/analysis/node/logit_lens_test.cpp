#include "runtime/analysis/logit_lens.h"

#include <gtest/gtest.h>

#include "node_fixtures.h"
#include "runtime/exec/metric.h"
#include "runtime/exec/plan_tensors.h"
#include "runtime/hooks/hook_set.h"
#include "runtime/model/model_weights.h"
#include "runtime/model/token_batch.h"
#include "tests/cpp/runtime/tiny_models.h"

namespace circuit::rt {
namespace {

using testing::AnalysisCase;

AnalysisCase lens_case(plan::PadSide side, plan::MetricKind kind) {
  AnalysisCase c;
  c.analysis.name = "lens";
  c.analysis.kind = plan::AnalysisKind::LogitLens;
  c.clean = testing::plan_batch("b", testing::random_prompts({6, 9, 4}, 0, 50, 1), side);
  plan::Metric m = testing::logit_diff_metric(3, 50, 2);
  m.kind = kind;
  c.analysis.metric = m;
  return c;
}

class LogitLens : public ::testing::TestWithParam<formats::Family> {};

// At the last layer the lens is the model: its logits and its metric.
TEST_P(LogitLens, LastLayerIsTheModelsOutput) {
  HookedModel model = testing::tiny_model(GetParam());
  for (auto side : {plan::PadSide::Left, plan::PadSide::Right}) {
    AnalysisCase c = lens_case(side, plan::MetricKind::LogitDiff);
    AnalysisResult r = logit_lens(c.context(model));
    TokenBatch batch = to_token_batch(c.clean, model.config());
    at::Tensor logits = model.forward(batch);
    const int L = model.config().n_layers;
    at::Tensor lens = to_at_tensor(r.tensors.at("logits"));  // [L, rows, vocab]
    ASSERT_EQ(lens.sizes(), (std::vector<std::int64_t>{L, 3, 50}));
    for (std::int64_t row = 0; row < 3; ++row) {
      at::Tensor model_row = logits[row][batch.column(row, batch.lengths[row] - 1)];
      EXPECT_TRUE(at::allclose(lens[L - 1][row], model_row, 1e-5, 1e-5)) << row;
    }
    at::Tensor metric = metric_per_row(logits, batch, *c.analysis.metric, {}, at::Tensor());
    at::Tensor per_layer = to_at_tensor(r.tensors.at("metric"));
    ASSERT_EQ(per_layer.size(0), L);
    EXPECT_NEAR(per_layer[L - 1].item<double>(), metric.mean().item<double>(), 1e-4);
    EXPECT_NEAR(r.values.at("model"), metric.mean().item<double>(), 1e-5);
  }
}

// Earlier layers: the final norm with a fresh scale on that layer's residual stream.
TEST_P(LogitLens, EarlierLayersNormalizeTheirOwnResidual) {
  HookedModel model = testing::tiny_model(GetParam());
  AnalysisCase c = lens_case(plan::PadSide::Left, plan::MetricKind::Logprob);
  AnalysisResult r = logit_lens(c.context(model));
  TokenBatch batch = to_token_batch(c.clean, model.config());
  HookSet hooks(model.config());
  hooks.cache("blocks.0.hook_resid_post");
  model.forward(batch, &hooks);
  at::Tensor resid = hooks.cached("blocks.0.hook_resid_post").select(1, -1);  // [rows, d]
  const auto& cfg = model.config();
  at::Tensor normed = resid;
  const auto& w = model.weights();
  if (cfg.norm == formats::NormKind::LayerNorm) {
    at::Tensor centred = resid - resid.mean(-1, true);
    normed = centred / (centred.pow(2).mean(-1, true) + cfg.norm_eps).sqrt() * w.ln_final_w + w.ln_final_b;
  } else if (cfg.norm == formats::NormKind::RmsNorm) {
    normed = resid / (resid.pow(2).mean(-1, true) + cfg.norm_eps).sqrt() * w.ln_final_w;
  }
  at::Tensor logits = normed.mm(w.unembed_w.t());
  if (w.unembed_b.defined()) logits = logits + w.unembed_b;
  at::Tensor logprob = at::log_softmax(logits, -1);
  double expected = 0;
  for (int row = 0; row < 3; ++row) expected += logprob[row][c.analysis.metric->answers[row]].item<double>() / 3;
  EXPECT_NEAR(to_at_tensor(r.tensors.at("metric"))[0].item<double>(), expected, 1e-5);
  EXPECT_EQ(r.tensors.at("metric_per_row").shape, (std::vector<std::int64_t>{cfg.n_layers, 3}));
}

INSTANTIATE_TEST_SUITE_P(Families, LogitLens,
                         ::testing::Values(formats::Family::Gpt2, formats::Family::Llama, formats::Family::GptNeoX,
                                           formats::Family::AttnOnly));

TEST(LogitLensMetric, NormalizesByTheCleanAndCorruptRuns) {
  HookedModel model = testing::tiny_model(formats::Family::Gpt2);
  AnalysisCase c = lens_case(plan::PadSide::Left, plan::MetricKind::LogitDiff);
  c.analysis.metric->normalize = plan::Normalize{"clean", "corrupt"};
  c.corrupt = testing::plan_batch("c", testing::random_prompts({6, 9, 4}, 0, 50, 9));
  c.has_corrupt = true;
  AnalysisResult r = logit_lens(c.context(model));
  const int L = model.config().n_layers;
  EXPECT_NEAR(to_at_tensor(r.tensors.at("metric"))[L - 1].item<double>(), 1.0, 1e-4);
  const double raw0 = to_at_tensor(r.tensors.at("metric_per_row"))[0].mean().item<double>();
  EXPECT_NEAR(to_at_tensor(r.tensors.at("metric"))[0].item<double>(),
              normalize_metric(raw0, r.values.at("model"), r.values.at("corrupt")), 1e-4);
}

}  // namespace
}  // namespace circuit::rt
