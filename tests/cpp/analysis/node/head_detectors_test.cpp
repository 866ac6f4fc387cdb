#include "runtime/analysis/head_detectors.h"

#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>

#include "node_fixtures.h"
#include "runtime/exec/plan_tensors.h"
#include "runtime/hooks/hook_set.h"
#include "runtime/model/model_weights.h"
#include "tests/cpp/runtime/tiny_models.h"

namespace circuit::rt {
namespace {

using testing::AnalysisCase;

// Heads sorted by score, best first ("a1.h0", ...).
std::vector<std::string> ranking(const AnalysisResult& r) {
  std::vector<size_t> order(r.nodes.names.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return r.nodes.values[a] > r.nodes.values[b]; });
  std::vector<std::string> names;
  for (size_t i : order) names.push_back(r.nodes.names[i]);
  return names;
}

AnalysisCase repeated_case(plan::AnalysisKind kind) {
  AnalysisCase c;
  c.analysis.name = "detector";
  c.analysis.kind = kind;
  c.clean = testing::plan_batch("repeated", testing::repeated_prompts(16, 20, 11));
  return c;
}

TEST(HeadDetectors, InductionModelRanksItsKnownHeadsFirst) {
  HookedModel model = testing::induction_model();
  auto prev = previous_token_score(repeated_case(plan::AnalysisKind::PreviousTokenScore).context(model));
  auto ind = induction_score(repeated_case(plan::AnalysisKind::InductionScore).context(model));
  ASSERT_EQ(prev.nodes.names.size(), 8u);
  EXPECT_EQ(ranking(prev)[0], "a0.h0");
  auto top = ranking(ind);
  std::vector<std::string> first3(top.begin(), top.begin() + 3);
  std::sort(first3.begin(), first3.end());
  EXPECT_EQ(first3, (std::vector<std::string>{"a1.h0", "a1.h1", "a1.h3"}));
  EXPECT_GT(ind.nodes.values[4], 0.4);  // a1.h0
  ASSERT_EQ(ind.tensors.at("scores").shape, (std::vector<std::int64_t>{2, 4}));
  EXPECT_DOUBLE_EQ(ind.tensors.at("scores").data[4], ind.nodes.values[4]);
}

// Padding never counts, and scores pool queries: a padded batch scores the query-weighted mean
// of its prompts run alone.
TEST(HeadDetectors, PaddedBatchPoolsItsPromptsByQueryCount) {
  HookedModel model = testing::tiny_model(formats::Family::Gpt2);
  auto rows = testing::random_prompts({9, 5, 12}, 0, 8, 3);  // a small vocabulary: many repeats
  for (auto kind : {plan::AnalysisKind::PreviousTokenScore, plan::AnalysisKind::InductionScore,
                    plan::AnalysisKind::DuplicateTokenScore}) {
    for (auto side : {plan::PadSide::Left, plan::PadSide::Right}) {
      auto run = [&](const std::vector<std::vector<std::int32_t>>& prompts) {
        AnalysisCase c;
        c.analysis.name = "d";
        c.analysis.kind = kind;
        c.clean = testing::plan_batch("b", prompts, side);
        auto ctx = c.context(model);
        return kind == plan::AnalysisKind::PreviousTokenScore ? previous_token_score(ctx)
               : kind == plan::AnalysisKind::InductionScore   ? induction_score(ctx)
                                                              : duplicate_token_score(ctx);
      };
      AnalysisResult all = run(rows);
      std::vector<double> pooled(all.nodes.values.size(), 0.0);
      double queries = 0;
      for (const auto& row : rows) {
        AnalysisResult one = run({row});
        for (size_t i = 0; i < pooled.size(); ++i) pooled[i] += one.nodes.values[i] * one.values["queries"];
        queries += one.values["queries"];
      }
      EXPECT_DOUBLE_EQ(all.values["queries"], queries);
      for (size_t i = 0; i < pooled.size(); ++i) EXPECT_NEAR(all.nodes.values[i], pooled[i] / queries, 1e-5);
    }
  }
}

TEST(HeadDetectors, PreviousTokenScoreReadsThePatternBelowTheDiagonal) {
  HookedModel model = testing::tiny_model(formats::Family::Llama);
  AnalysisCase c;
  c.analysis.name = "prev";
  c.analysis.kind = plan::AnalysisKind::PreviousTokenScore;
  c.clean = testing::plan_batch("b", testing::random_prompts({7}, 0, 50, 5));
  auto r = previous_token_score(c.context(model));
  HookSet hooks(model.config());
  hooks.cache("blocks.1.attn.hook_pattern");
  at::Tensor tokens = at::tensor(std::vector<std::int64_t>(c.clean.rows[0].begin(), c.clean.rows[0].end())).view({1, -1});
  model.forward(tokens, &hooks);
  at::Tensor p = hooks.cached("blocks.1.attn.hook_pattern")[0][2];  // head 2: [q, k]
  EXPECT_NEAR(r.nodes.values[4 + 2], p.diagonal(-1).mean().item<double>(), 1e-6);
}

TEST(HeadDetectors, NoRepeatedTokenIsAnError) {
  HookedModel model = testing::tiny_model(formats::Family::AttnOnly);
  AnalysisCase c;
  c.analysis.name = "ind";
  c.clean = testing::plan_batch("b", {{1, 2, 3, 4}});
  try {
    induction_score(c.context(model));
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "analysis 'ind': no token of the prompts occurs twice");
  }
}

// The d_head x d_head shortcut gives the eigenvalues of the full vocab x vocab OV circuit.
TEST(HeadDetectors, CopyingScoreMatchesTheFullOvCircuit) {
  HookedModel model = testing::tiny_model(formats::Family::Gpt2, 5);
  AnalysisCase c;
  c.analysis.name = "copy";
  c.analysis.kind = plan::AnalysisKind::CopyingScore;
  c.clean = testing::plan_batch("b", {{1}});
  auto r = copying_score(c.context(model));
  const auto& w = model.weights();
  const auto& cfg = model.config();
  const std::int64_t H = cfg.n_heads, dh = cfg.d_head;
  for (int l = 0; l < cfg.n_layers; ++l) {
    for (std::int64_t h = 0; h < H; ++h) {
      at::Tensor WE = w.embed.to(at::kDouble);                                                  // [V, d]
      at::Tensor WV = w.layers[l].qkv_w.narrow(0, 2 * H * dh + h * dh, dh).to(at::kDouble).t();  // [d, dh]
      at::Tensor WO = w.layers[l].o_w.narrow(1, h * dh, dh).to(at::kDouble).t();               // [dh, d]
      at::Tensor WU = w.unembed_w.to(at::kDouble).t();                                          // [d, V]
      at::Tensor eig = at::linalg_eigvals(WE.mm(WV).mm(WO).mm(WU));
      const double expected = at::real(eig).sum().item<double>() / at::abs(eig).sum().item<double>();
      // The full matrix has V - d_head eigenvalues that are zero only up to rounding.
      EXPECT_NEAR(r.nodes.values[l * H + h], expected, 1e-6) << l << "." << h;
    }
  }
}

TEST(HeadDetectors, CopyingScoreIsOneForACopyingHead) {
  // One layer, OV = identity on a model whose unembedding is the embedding: every eigenvalue
  // of W_E W_E^T is non-negative.
  auto config = testing::tiny_config(formats::Family::AttnOnly);
  config.n_layers = 1;
  config.d_head = config.d_model;
  config.n_heads = 1;
  config.n_kv_heads = 1;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  const std::int64_t d = config.d_model;
  WeightMap w;
  w["embed"] = at::randn({config.d_vocab, d}, gen);
  w["pos_embed"] = at::randn({config.n_ctx, d}, gen);
  w["blocks.0.q.w"] = at::randn({d, d}, gen);
  w["blocks.0.k.w"] = at::randn({d, d}, gen);
  w["blocks.0.v.w"] = at::eye(d);
  w["blocks.0.o.w"] = at::eye(d);
  w["unembed.w"] = w["embed"].clone();
  w["unembed.b"] = at::zeros({config.d_vocab});
  for (const char* b : {"q.b", "k.b", "v.b", "o.b"}) w[std::string("blocks.0.") + b] = at::zeros({d});
  HookedModel model = HookedModel::from_weights(config, w);
  AnalysisCase c;
  c.analysis.name = "copy";
  c.clean = testing::plan_batch("b", {{1}});
  EXPECT_NEAR(copying_score(c.context(model)).nodes.values[0], 1.0, 1e-9);
  w["blocks.0.o.w"] = -at::eye(d);
  HookedModel anti = HookedModel::from_weights(config, w);
  EXPECT_NEAR(copying_score(c.context(anti)).nodes.values[0], -1.0, 1e-9);
}

}  // namespace
}  // namespace circuit::rt
