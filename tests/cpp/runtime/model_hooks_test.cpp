// The hooked forward on tiny random models of every family: masks and padding (a padded batch
// equals each prompt alone), the fused-attention path equals the explicit one, hook dispatch
// (add / replace / scale on a selection change exactly that slice; cache reads), opt-in points,
// and gradients at a hook point against a finite difference.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <functional>

#include "runtime/hooks/hook_set.h"
#include "runtime/model/hooked_model.h"
#include "runtime/model/token_batch.h"
#include "tiny_models.h"

namespace circuit::rt {
namespace {

using formats::Family;

class EveryFamily : public ::testing::TestWithParam<Family> {};

const std::vector<std::vector<std::int64_t>> kPrompts = {{3, 14, 15, 9, 2, 6, 5, 35, 8, 9}, {27, 1, 8}, {2, 7, 18, 28, 18, 28}};

TEST_P(EveryFamily, PaddedBatchEqualsEachPromptAlone) {
  auto model = testing::tiny_model(GetParam());
  for (PadSide side : {PadSide::Left, PadSide::Right}) {
    auto batch = make_token_batch(kPrompts, model.config(), side);
    ASSERT_TRUE(batch.padded());
    auto logits = model.forward(batch);
    for (size_t r = 0; r < kPrompts.size(); ++r) {
      auto alone = model.forward(make_token_batch({kPrompts[r]}, model.config()));
      const int64_t n = static_cast<int64_t>(kPrompts[r].size());
      auto row = logits[r].narrow(0, batch.column(r, 0), n);
      EXPECT_LT((row - alone[0]).abs().max().item<double>(), 1e-5) << "row " << r;
    }
  }
}

TEST_P(EveryFamily, FusedAttentionEqualsExplicitPattern) {
  auto model = testing::tiny_model(GetParam());
  auto batch = make_token_batch(kPrompts, model.config());
  auto fused = model.forward(batch);
  HookSet hooks(model.config());
  hooks.cache("blocks.0.attn.hook_pattern");
  hooks.cache("blocks.1.attn.hook_attn_scores");
  auto explicit_path = model.forward(batch, &hooks);
  EXPECT_LT((fused - explicit_path).abs().max().item<double>(), 1e-5);
  // Each real query's pattern sums to one and puts no weight on padding or the future.
  auto pattern = hooks.cached("blocks.0.attn.hook_pattern");
  auto row1 = pattern[1];  // prompt 1 is left-padded by 7
  EXPECT_NEAR(row1[0][9].sum().item<double>(), 1.0, 1e-5);
  EXPECT_EQ(row1.narrow(1, 7, 3).narrow(2, 0, 7).abs().max().item<double>(), 0.0);
  EXPECT_EQ(pattern[0][2][3].narrow(0, 4, 6).abs().max().item<double>(), 0.0);
}

TEST_P(EveryFamily, OptInPointsLeaveTheOutputUnchanged) {
  auto model = testing::tiny_model(GetParam());
  auto batch = make_token_batch(kPrompts, model.config());
  auto plain = model.forward(batch);
  HookSet hooks(model.config());
  for (const char* name : {"blocks.1.attn.hook_result", "blocks.1.attn.hook_q_input",
                           "blocks.1.attn.hook_k_input", "blocks.1.attn.hook_v_input"})
    hooks.cache(name);
  auto hooked = model.forward(batch, &hooks);
  EXPECT_LT((plain - hooked).abs().max().item<double>(), 1e-5);
  const auto& c = model.config();
  EXPECT_EQ(hooks.cached("blocks.1.attn.hook_result").sizes(),
            at::IntArrayRef({3, 10, c.n_heads, c.d_model}));
  EXPECT_EQ(hooks.cached("blocks.1.attn.hook_k_input").size(2), c.n_kv_heads);
}

TEST_P(EveryFamily, CacheAllCostsNothingInNumbers) {
  auto model = testing::tiny_model(GetParam());
  auto batch = make_token_batch(kPrompts, model.config());
  HookSet hooks(model.config());
  hooks.cache_all();
  auto hooked = model.forward(batch, &hooks);
  EXPECT_LT((model.forward(batch) - hooked).abs().max().item<double>(), 1e-5);
  EXPECT_EQ(hooks.caches().size(), formats::hook_point_names(model.config(), false).size());
  EXPECT_TRUE(at::equal(hooks.cached("hook_logits"), hooked));
}

INSTANTIATE_TEST_SUITE_P(Families, EveryFamily,
                         ::testing::Values(Family::Gpt2, Family::Llama, Family::GptNeoX, Family::AttnOnly),
                         [](const auto& info) { return std::string(formats::family_name(info.param)) == "gpt-neox"
                                                           ? std::string("gpt_neox")
                                                           : std::string(formats::family_name(info.param)) == "attn-only"
                                                                 ? std::string("attn_only")
                                                                 : std::string(formats::family_name(info.param)); });

TEST(HookDispatch, ActionsChangeExactlyTheSelectedSlice) {
  auto model = testing::tiny_model(Family::Llama);
  auto batch = make_token_batch(kPrompts, model.config());
  HookSet clean(model.config());
  clean.cache("blocks.0.attn.hook_z");
  model.forward(batch, &clean);
  auto z = clean.cached("blocks.0.attn.hook_z");  // [3, 10, 4, 8]

  Selection sel;
  sel.batch = {1};
  sel.positions = {-1};
  sel.heads = {2};
  auto check = [&](const std::function<void(HookSet&)>& register_action, const at::Tensor& expected_slice) {
    HookSet hooks(model.config());
    register_action(hooks);
    hooks.cache("blocks.0.attn.hook_z");
    model.forward(batch, &hooks);
    auto got = hooks.cached("blocks.0.attn.hook_z");
    auto diff = (got - z).abs();
    auto slice = got[1][9][2];
    EXPECT_LT((slice - expected_slice).abs().max().item<double>(), 1e-6);
    diff[1][9][2].zero_();
    EXPECT_EQ(diff.max().item<double>(), 0.0);
  };
  auto ref = model.config();
  auto z_ref = formats::resolve_hook_point("blocks.0.attn.hook_z", ref);
  check([&](HookSet& h) { h.add(z_ref, at::ones({8}), sel); }, z[1][9][2] + 1);
  check([&](HookSet& h) { h.scale(z_ref, 0.0, sel); }, at::zeros({8}));
  check([&](HookSet& h) { h.replace(z_ref, at::full({3, 10, 4, 8}, 2.5), sel); }, at::full({8}, 2.5));
  check([&](HookSet& h) {
    h.call(z_ref, [](const at::Tensor& x, const HookContext& ctx) {
      EXPECT_EQ(ctx.layer, 0);
      auto y = x.clone();
      y[1][9][2] = -1;
      return y;
    });
  }, at::full({8}, -1.0));
}

TEST(HookDispatch, NeuronSelectionAndRangeErrors) {
  auto model = testing::tiny_model(Family::Gpt2);
  auto batch = make_token_batch(kPrompts, model.config());
  HookSet hooks(model.config());
  Selection neurons;
  neurons.neurons = {3, 40};
  hooks.scale(hooks.ref("blocks.1.mlp.hook_post"), 0.0, neurons);
  hooks.cache("blocks.1.mlp.hook_post");
  hooks.cache("blocks.1.mlp.hook_post", neurons);  // overwrites with the selected slice
  model.forward(batch, &hooks);
  auto post = hooks.cached("blocks.1.mlp.hook_post");
  EXPECT_EQ(post.sizes(), at::IntArrayRef({3, 10, 2}));
  EXPECT_EQ(post.abs().max().item<double>(), 0.0);

  Selection bad_head;
  bad_head.heads = {4};
  try {
    hooks.scale(hooks.ref("blocks.0.attn.hook_z"), 0.0, bad_head);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("valid heads are 0..3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(hooks.cache("blocks.2.hook_resid_pre"), std::invalid_argument);
}

TEST(Gradients, HookPointGradientMatchesFiniteDifference) {
  auto model = testing::tiny_model(Family::Gpt2);
  auto batch = make_token_batch(kPrompts, model.config());
  const std::string point = "blocks.0.hook_resid_mid";
  auto metric_of = [&](const at::Tensor& logits) { return logits[0][9][7] - logits[0][9][11]; };

  HookSet hooks(model.config());
  hooks.request_gradient(point);
  auto logits = model.forward(batch, &hooks);
  ASSERT_TRUE(logits.requires_grad());
  metric_of(logits).backward();
  auto grad = hooks.gradient(point);
  ASSERT_EQ(grad.sizes(), at::IntArrayRef({3, 10, 32}));
  // Positions after 9 do not exist; earlier positions of prompt 0 matter, other prompts do not.
  EXPECT_EQ(grad[1].abs().max().item<double>(), 0.0);

  const auto ref = formats::resolve_hook_point(point, model.config());
  for (int64_t pos : {9, 4}) {
    for (int64_t dim : {0, 17}) {
      const double eps = 1e-2;
      auto shifted = [&](double delta) {
        HookSet h(model.config());
        auto bump = at::zeros({3, 10, 32});
        bump[0][pos][dim] = delta;
        h.add(ref, bump);
        return metric_of(model.forward(batch, &h)).item<double>();
      };
      const double numeric = (shifted(eps) - shifted(-eps)) / (2 * eps);
      EXPECT_NEAR(grad[0][pos][dim].item<double>(), numeric, 2e-3 + 1e-2 * std::abs(numeric))
          << "pos " << pos << " dim " << dim;
    }
  }
}

TEST(TokenBatch, LongPromptAndBadIdsAreClearErrors) {
  auto c = testing::tiny_config(Family::AttnOnly);
  try {
    make_token_batch({std::vector<std::int64_t>(25, 1)}, c);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "prompt 0 has 25 tokens, more than the model's context of 24");
  }
  EXPECT_THROW(make_token_batch({{1, 50}}, c), std::invalid_argument);
  auto b = make_token_batch({{1, 2, 3}, {4}}, c);
  EXPECT_EQ(b.positions[1][2].item<int64_t>(), 0);
  EXPECT_EQ(b.column(1, 0), 2);
  EXPECT_FALSE(b.attention_mask[1][1].item<bool>());
}

}  // namespace
}  // namespace circuit::rt

namespace circuit::rt {
namespace {

TEST(Forward, LastPositionLogitsEqualTheFullLastColumn) {
  auto model = testing::tiny_model(formats::Family::Llama);
  auto batch = make_token_batch(kPrompts, model.config());
  auto full = model.forward(batch);
  auto last = model.forward(batch, nullptr, LogitsAt::Last);
  ASSERT_EQ(last.sizes(), at::IntArrayRef({3, 1, model.config().d_vocab}));
  EXPECT_LT((last.select(1, 0) - full.select(1, -1)).abs().max().item<double>(), 1e-5);
}

}  // namespace
}  // namespace circuit::rt

namespace circuit::rt {
namespace {

// Half precisions run both attention paths (with padding) and stay near the fp32 numbers.
TEST(Forward, HalfPrecisionsAgreeWithFloat32) {
  for (formats::Family family : {formats::Family::Llama, formats::Family::Gpt2}) {
    auto reference = testing::tiny_model(family);
    auto batch = make_token_batch(kPrompts, reference.config());
    auto expected = reference.forward(batch);
    const double scale = expected.abs().max().item<double>();
    for (const char* dtype : {"bfloat16", "float16"}) {
      RuntimeOptions options;
      options.dtype = dtype;
      auto model = testing::tiny_model(family, 7, options);
      auto raw = model.forward(batch);
      EXPECT_NE(raw.scalar_type(), at::kFloat) << dtype;
      auto fused = raw.to(at::kFloat);
      HookSet hooks(model.config());
      hooks.cache("blocks.1.attn.hook_pattern");
      auto explicit_path = model.forward(batch, &hooks).to(at::kFloat);
      EXPECT_EQ(hooks.cached("blocks.1.attn.hook_pattern").scalar_type(), raw.scalar_type());
      EXPECT_FALSE(at::isnan(explicit_path).any().item<bool>()) << dtype;
      EXPECT_LT((fused - expected).abs().max().item<double>(), 0.05 * scale) << dtype;
      EXPECT_LT((explicit_path - expected).abs().max().item<double>(), 0.05 * scale) << dtype;
    }
  }
}

}  // namespace
}  // namespace circuit::rt
