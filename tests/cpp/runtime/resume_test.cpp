// Resuming from a clean run (HookedModel::forward_with_cache / forward_from / extend) on tiny
// random models of every family: a resumed forward with an intervention at (layer, column)
// equals the full forward with the same intervention, at the computed columns, for left-padded
// batches, rows that repeat cache rows, LogitsAt::Last, hooks that read patterns and gradients;
// extending the cache column by column equals a full forward over the longer prompts.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <functional>
#include <string>
#include <vector>

#include "runtime/hooks/hook_set.h"
#include "runtime/model/hooked_model.h"
#include "runtime/model/token_batch.h"
#include "tiny_models.h"

namespace circuit::rt {
namespace {

using formats::Family;

// Left-padded to 10 columns: prompt 1 starts at column 7, prompt 2 at column 4.
const std::vector<std::vector<std::int64_t>> kClean = {{3, 14, 15, 9, 2, 6, 5, 35, 8, 9}, {27, 1, 8}, {2, 7, 18, 28, 18, 28}};
const std::vector<std::vector<std::int64_t>> kCorrupt = {{3, 14, 15, 9, 2, 6, 5, 35, 8, 40}, {27, 33, 8}, {2, 7, 44, 28, 18, 12}};

double max_diff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

// The batch whose row t is row rows[t] of `batch`, padding and all.
TokenBatch repeat_rows(const TokenBatch& batch, const std::vector<std::int64_t>& rows) {
  auto index = at::tensor(rows, at::kLong);
  TokenBatch out;
  out.tokens = batch.tokens.index_select(0, index);
  out.positions = batch.positions.index_select(0, index);
  if (batch.padded()) out.attention_mask = batch.attention_mask.index_select(0, index);
  for (std::int64_t r : rows) out.lengths.push_back(batch.lengths[static_cast<size_t>(r)]);
  out.side = batch.side;
  return out;
}

std::vector<std::int64_t> identity_rows(std::int64_t n) {
  std::vector<std::int64_t> rows;
  for (std::int64_t i = 0; i < n; ++i) rows.push_back(i);
  return rows;
}

class Resume : public ::testing::TestWithParam<Family> {};

// The same interventions, registered on a fresh HookSet: patch head 1's z at the last column
// from the corrupt run (a full-width value: the resumed forward narrows it), scale the
// residual at `column` (an absolute column: the resumed forward shifts it), and read z and the
// pattern of the last layer.
HookSet interventions(const HookedModel& model, int layer, std::int64_t column, const at::Tensor& corrupt_z) {
  HookSet hooks(model.config());
  const std::string l = std::to_string(layer);
  Selection last_head;
  last_head.positions = {-1};
  last_head.heads = {1};
  hooks.replace(hooks.ref("blocks." + l + ".attn.hook_z"), corrupt_z, last_head);
  Selection at_column;
  at_column.positions = {column};
  hooks.scale(hooks.ref("blocks." + l + ".hook_resid_pre"), 1.5, at_column);
  hooks.cache("blocks.1.attn.hook_z");
  hooks.cache("blocks.1.attn.hook_pattern");
  return hooks;
}

TEST_P(Resume, EqualsTheFullForwardWithTheSameIntervention) {
  auto model = testing::tiny_model(GetParam());
  auto clean = make_token_batch(kClean, model.config());
  auto corrupt = make_token_batch(kCorrupt, model.config());
  ASSERT_TRUE(clean.padded());
  auto cache = model.forward_with_cache(clean);
  EXPECT_GT(cache.bytes(), 0);
  const std::int64_t seq = clean.seq();
  const std::vector<std::pair<int, std::int64_t>> points = {{0, 0}, {0, 5}, {0, 9}, {1, 7}, {1, 9}, {1, 2}};
  for (int layer : {0, 1}) {
    HookSet corrupt_hooks(model.config());
    corrupt_hooks.cache("blocks." + std::to_string(layer) + ".attn.hook_z");
    model.forward(corrupt, &corrupt_hooks);
    const auto corrupt_z = corrupt_hooks.cached("blocks." + std::to_string(layer) + ".attn.hook_z");
    for (auto [l, column] : points) {
      if (l != layer) continue;
      SCOPED_TRACE("layer " + std::to_string(l) + " column " + std::to_string(column));
      auto full_hooks = interventions(model, l, column, corrupt_z);
      auto full = model.forward(clean, &full_hooks);
      auto resumed_hooks = interventions(model, l, column, corrupt_z);
      auto resumed = model.forward_from(cache, identity_rows(3), {l, column}, &resumed_hooks);
      const std::int64_t n = seq - column;
      ASSERT_EQ(resumed.sizes(), at::IntArrayRef({3, n, model.config().d_vocab}));
      EXPECT_LT(max_diff(resumed, full.narrow(1, column, n)), 1e-5);
      // Hooks saw the computed columns only; the pattern covers every key column.
      EXPECT_LT(max_diff(resumed_hooks.cached("blocks.1.attn.hook_z"),
                         full_hooks.cached("blocks.1.attn.hook_z").narrow(1, column, n)), 1e-5);
      auto pattern = resumed_hooks.cached("blocks.1.attn.hook_pattern");
      ASSERT_EQ(pattern.size(2), n);
      ASSERT_EQ(pattern.size(3), seq);
      EXPECT_LT(max_diff(pattern, full_hooks.cached("blocks.1.attn.hook_pattern").narrow(2, column, n)), 1e-5);
      // The intervention mattered (the comparison is not between two clean runs).
      EXPECT_GT(max_diff(full, model.forward(clean)), 1e-4);
    }
  }
}

TEST_P(Resume, RowsRepeatingCacheRowsEqualARepeatedBatch) {
  auto model = testing::tiny_model(GetParam());
  auto clean = make_token_batch(kClean, model.config());
  auto cache = model.forward_with_cache(clean);
  const auto& c = model.config();
  // Unequal repeats (gathered), a tiled sweep (grouped, reordered), a grouped one, a subset.
  const std::vector<std::vector<std::int64_t>> row_sets = {
      {1, 0, 1, 1}, {0, 1, 2, 0, 1, 2, 0, 1, 2}, {2, 2, 1, 1}, {2}, {1, 2, 0}};
  for (const auto& rows : row_sets) {
    for (LogitsAt at_ : {LogitsAt::All, LogitsAt::Last}) {
      const std::int64_t column = 8;
      // Row t ablates head t % n_heads of z at the last column: a stacked head sweep.
      auto sweep = [&] {
        HookSet hooks(c);
        for (size_t t = 0; t < rows.size(); ++t) {
          Selection sel;
          sel.batch = {static_cast<std::int64_t>(t)};
          sel.positions = {-1};
          sel.heads = {static_cast<std::int64_t>(t) % c.n_heads};
          hooks.scale(hooks.ref("blocks.1.attn.hook_z"), 0.0, sel);
        }
        return hooks;
      };
      auto full_hooks = sweep();
      auto full = model.forward(repeat_rows(clean, rows), &full_hooks, at_);
      auto resumed_hooks = sweep();
      auto resumed = model.forward_from(cache, rows, {1, column}, &resumed_hooks, at_);
      auto expected = at_ == LogitsAt::Last ? full : full.narrow(1, column, clean.seq() - column);
      ASSERT_EQ(resumed.sizes(), expected.sizes());
      EXPECT_LT(max_diff(resumed, expected), 1e-5) << "rows of size " << rows.size();
    }
  }
}

TEST_P(Resume, NoHooksAtTheStartEqualsThePlainForward) {
  auto model = testing::tiny_model(GetParam());
  for (const auto& prompts : {kClean, std::vector<std::vector<std::int64_t>>{{4, 5, 6, 7}, {9, 8, 7, 6}}}) {
    auto batch = make_token_batch(prompts, model.config());
    at::Tensor logits;
    auto cache = model.forward_with_cache(batch, nullptr, LogitsAt::All, &logits);
    auto plain = model.forward(batch);
    EXPECT_TRUE(at::equal(logits, plain));
    auto resumed = model.forward_from(cache, identity_rows(batch.batch()), {0, 0});
    EXPECT_LT(max_diff(resumed, plain), 1e-5);
    // Resuming above the last block: only the final norm and the unembedding run.
    auto top = model.forward_from(cache, identity_rows(batch.batch()), {model.config().n_layers, 3},
                                  nullptr, LogitsAt::Last);
    EXPECT_LT(max_diff(top, plain.narrow(1, batch.seq() - 1, 1)), 1e-5);
  }
}

TEST_P(Resume, GradientsFlowThroughAResumedForward) {
  auto model = testing::tiny_model(GetParam());
  auto clean = make_token_batch(kClean, model.config());
  auto cache = model.forward_with_cache(clean);
  const std::string point = "blocks.1.hook_resid_pre";
  auto metric = [](const at::Tensor& logits) { return (logits.select(1, -1).select(1, 7) - logits.select(1, -1).select(1, 11)).sum(); };
  HookSet full_hooks(model.config());
  full_hooks.request_gradient(point);
  metric(model.forward(clean, &full_hooks)).backward();
  HookSet resumed_hooks(model.config());
  resumed_hooks.request_gradient(point);
  auto resumed = model.forward_from(cache, identity_rows(3), {1, 6}, &resumed_hooks);
  ASSERT_TRUE(resumed.requires_grad());
  metric(resumed).backward();
  auto grad = resumed_hooks.gradient(point);
  ASSERT_EQ(grad.size(1), 4);
  EXPECT_LT(max_diff(grad, full_hooks.gradient(point).narrow(1, 6, 4)), 1e-5);
}

TEST_P(Resume, ExtendingEqualsAFullForwardOverTheLongerPrompts) {
  auto model = testing::tiny_model(GetParam());
  auto prompts = kClean;
  at::Tensor logits;
  auto cache = model.forward_with_cache(make_token_batch(prompts, model.config()), nullptr, LogitsAt::Last, &logits);
  for (int step = 0; step < 4; ++step) {
    std::vector<std::int64_t> next;
    for (size_t r = 0; r < prompts.size(); ++r) {
      next.push_back((3 * step + 11 * static_cast<std::int64_t>(r) + 1) % model.config().d_vocab);
      prompts[r].push_back(next.back());
    }
    logits = model.extend(cache, next);
    auto full = model.forward(make_token_batch(prompts, model.config()), nullptr, LogitsAt::Last);
    ASSERT_EQ(logits.sizes(), full.sizes());
    EXPECT_LT(max_diff(logits, full), 1e-5) << "step " << step;
    EXPECT_EQ(cache.batch().seq(), 11 + step);
  }
  // The extended cache resumes like a fresh one.
  auto fresh = model.forward_with_cache(make_token_batch(prompts, model.config()));
  EXPECT_LT(max_diff(model.forward_from(cache, {2, 0}, {1, 12}), model.forward_from(fresh, {2, 0}, {1, 12})), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Families, Resume,
                         ::testing::Values(Family::Gpt2, Family::Llama, Family::GptNeoX, Family::AttnOnly),
                         [](const auto& info) {
                           std::string name(formats::family_name(info.param));
                           for (char& ch : name) if (ch == '-') ch = '_';
                           return name;
                         });

TEST(ResumeErrors, BadResumePointsRowsAndPositionsAreClearErrors) {
  auto model = testing::tiny_model(Family::Llama);
  auto cache = model.forward_with_cache(make_token_batch(kClean, model.config()));
  auto message = [&](const std::function<void()>& f) {
    try {
      f();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([&] { model.forward_from(cache, {0}, {0, 10}); }).find("column 10"), std::string::npos);
  EXPECT_NE(message([&] { model.forward_from(cache, {0}, {3, 0}); }).find("layer 3"), std::string::npos);
  EXPECT_NE(message([&] { model.forward_from(cache, {3}, {0, 0}); }).find("row 3"), std::string::npos);
  EXPECT_NE(message([&] { model.forward_from(cache, {}, {0, 0}); }).find("no rows"), std::string::npos);
  HookSet hooks(model.config());
  Selection early;
  early.positions = {2};
  hooks.scale(hooks.ref("blocks.1.hook_resid_pre"), 0.0, early);
  EXPECT_NE(message([&] { model.forward_from(cache, {0}, {1, 5}, &hooks); }).find("before the first computed column"),
            std::string::npos);
  HookSet below(model.config());
  below.cache("blocks.0.attn.hook_z");
  EXPECT_NE(message([&] { model.forward_from(cache, {0}, {1, 5}, &below); }).find("'blocks.0.attn.hook_z' is below the resume layer 1"),
            std::string::npos);
  HookSet embed(model.config());
  embed.cache("hook_embed");
  EXPECT_NE(message([&] { model.forward_from(cache, {0}, {1, 5}, &embed); }).find("hook_embed"), std::string::npos);
  EXPECT_NO_THROW(model.forward_from(cache, {0}, {0, 5}, &embed));
  EXPECT_NE(message([&] { PrefixCache empty; model.forward_from(empty, {0}, {0, 0}); }).find("empty"), std::string::npos);
}

}  // namespace
}  // namespace circuit::rt
