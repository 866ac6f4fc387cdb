#include "runtime/analysis/logit_lens.h"

#include <gtest/gtest.h>

#include <cmath>

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

// The per-position lens: at the last layer each real token's top token is the argmax of the
// model's own logits there, with its softmax probability; padding holds -1 and NaN, and each
// prompt's tokens are left-aligned whatever side the batch pads.
TEST_P(LogitLens, TopTokensPerPositionAtTheLastLayerAreTheModelsArgmax) {
  HookedModel model = testing::tiny_model(GetParam());
  const auto& cfg = model.config();
  const int L = cfg.n_layers;
  for (auto side : {plan::PadSide::Left, plan::PadSide::Right}) {
    AnalysisCase c = lens_case(side, plan::MetricKind::LogitDiff);
    AnalysisResult r = logit_lens(c.context(model));
    TokenBatch batch = to_token_batch(c.clean, cfg);
    at::Tensor logits = model.forward(batch);  // [rows, seq, vocab]
    at::Tensor tokens = to_at_tensor(r.tensors.at("top_tokens"));
    at::Tensor probs = to_at_tensor(r.tensors.at("top_probs"));
    ASSERT_EQ(tokens.sizes(), (std::vector<std::int64_t>{L, 3, 9}));
    ASSERT_EQ(probs.sizes(), tokens.sizes());
    for (std::int64_t row = 0; row < 3; ++row) {
      const std::int64_t length = batch.lengths[row];
      for (std::int64_t i = 0; i < 9; ++i) {
        if (i >= length) {
          for (int l = 0; l < L; ++l) {
            EXPECT_EQ(tokens[l][row][i].item<float>(), -1.0f) << row << "," << i;
            EXPECT_TRUE(std::isnan(probs[l][row][i].item<float>())) << row << "," << i;
          }
          continue;
        }
        for (int l = 0; l < L; ++l) {
          const float id = tokens[l][row][i].item<float>();
          EXPECT_TRUE(id >= 0 && id < cfg.d_vocab && id == std::floor(id)) << id;
          const float p = probs[l][row][i].item<float>();
          EXPECT_TRUE(p > 0.0f && p <= 1.0f) << p;
          EXPECT_GE(p, 1.0f / cfg.d_vocab - 1e-6f);  // the top token is at least as likely as average
        }
        at::Tensor model_row = logits[row][batch.column(row, i)];
        const auto ours = static_cast<std::int64_t>(tokens[L - 1][row][i].item<float>());
        const std::int64_t expected = model_row.argmax().item<std::int64_t>();
        // A different id only where the two logits tie to float rounding.
        if (ours != expected)
          EXPECT_NEAR(model_row[ours].item<float>(), model_row[expected].item<float>(), 1e-5) << row << "," << i;
        EXPECT_NEAR(probs[L - 1][row][i].item<float>(), at::softmax(model_row, -1).max().item<float>(), 1e-5);
      }
    }
  }
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

// Without a metric the lens still fills the per-position grid (and reports no metric).
TEST(LogitLensPositions, WithoutAMetricTheGridIsStillFilled) {
  HookedModel model = testing::tiny_model(formats::Family::Llama);
  AnalysisCase c = lens_case(plan::PadSide::Left, plan::MetricKind::LogitDiff);
  c.analysis.metric.reset();
  AnalysisResult r = logit_lens(c.context(model));
  EXPECT_EQ(r.tensors.count("metric"), 0u);
  const auto& tokens = r.tensors.at("top_tokens");
  EXPECT_EQ(tokens.shape, (std::vector<std::int64_t>{model.config().n_layers, 3, 9}));
  // Prompt 2 (4 tokens) has real cells at positions 0..3 only.
  const std::int64_t at3 = 2 * 9 + 3, at4 = 2 * 9 + 4;
  EXPECT_GE(tokens.data[at3], 0.0f);
  EXPECT_EQ(tokens.data[at4], -1.0f);
}

// The grid keeps the first prompts whose left-aligned grid fits the cell budget.
TEST(LogitLensPositions, KeepsTheFirstPromptsThatFit) {
  EXPECT_EQ(lens_grid_prompts({5, 24, 24}, 2, 100), 2);  // 2 x 24 x 2 = 96; a third: 144
  EXPECT_EQ(lens_grid_prompts({5, 24, 24}, 2, 1000), 3);
  EXPECT_EQ(lens_grid_prompts({60}, 2, 100), 0);
  EXPECT_EQ(lens_grid_prompts({17, 17, 17, 17}, 30, kLensGridCells), 4);
  // IOI on SmolLM2 (32 prompts of about 17 tokens, 30 layers) fits whole.
  EXPECT_EQ(lens_grid_prompts(std::vector<std::int64_t>(32, 17), 30), 32);
  // 2^20 / (30 x 64) = 546.1: of 600 prompts of 64 tokens, 546.
  EXPECT_EQ(lens_grid_prompts(std::vector<std::int64_t>(600, 64), 30), 546);
}

}  // namespace
}  // namespace circuit::rt
