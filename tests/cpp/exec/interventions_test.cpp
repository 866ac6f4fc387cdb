// Each intervention action changes exactly its selection (pass rows, per-row prompt positions,
// heads, neurons), and the ablations equal their hand computations.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "runtime/exec/intervention_hooks.h"
#include "runtime/exec/plan_executor.h"
#include "tests/cpp/exec/exec_test_plans.h"

namespace circuit::rt::testing {
namespace {

using formats::Family;

// Element of a saved [rows, pos, heads, d_head] activation.
float at4(const plan::Tensor& t, int64_t a, int64_t b, int64_t c, int64_t d) {
  return t.data[((a * t.shape[1] + b) * t.shape[2] + c) * t.shape[3] + d];
}

struct SelectionCase {
  plan::Action action;
  double factor = 1.0;
  plan::Tensor value;
};

TEST(Interventions, EachActionTouchesOnlyItsSelection) {
  const HookedModel model = tiny_model(Family::Gpt2);
  const auto& c = model.config();
  const int rows = 3, length = 6;
  plan::TokenBatch batch{"clean", random_rows(rows, length, c.d_vocab, 21), plan::PadSide::Right, false};
  const std::vector<SelectionCase> cases = {
      {plan::Action::Zero, 1.0, {}},
      {plan::Action::Scale, 2.5, {}},
      {plan::Action::Add, 1.0, plan::Tensor{{2}, {1.0f, -2.0f}}},
      {plan::Action::Replace, 1.0, plan::Tensor{{2, 2}, {1.0f, 2.0f, 3.0f, 4.0f}}},
  };
  const std::vector<int> heads = {1, 3}, neurons = {0, 5};
  for (const SelectionCase& k : cases) {
    plan::HookPlan plan = base_plan(model, {batch});
    plan.passes.push_back(clean_pass("clean", "clean", {z_hook(0)}, {logit_diff(rows, c.d_vocab)}));
    plan::Pass p = clean_pass("changed", "clean", {z_hook(0)}, {logit_diff(rows, c.d_vocab)});
    plan::Intervention in;
    in.hook = z_hook(0);
    in.action = k.action;
    in.factor = k.factor;
    in.value = k.value;
    in.select.rows = {1};
    in.select.positions.index = {2, -1};
    in.select.heads = heads;
    in.select.neurons = neurons;
    p.interventions.push_back(in);
    plan.passes.push_back(p);
    PlanResults r = run_valid(model, plan);
    const plan::Tensor& before = r.pass("clean")->saves.at(z_hook(0));
    const plan::Tensor& after = r.pass("changed")->saves.at(z_hook(0));
    ASSERT_EQ(before.shape, after.shape);
    for (int64_t row = 0; row < rows; ++row)
      for (int64_t pos = 0; pos < length; ++pos)
        for (int64_t h = 0; h < c.n_heads; ++h)
          for (int64_t d = 0; d < c.d_head; ++d) {
            const float x = at4(before, row, pos, h, d), y = at4(after, row, pos, h, d);
            const auto hi = std::find(heads.begin(), heads.end(), h) - heads.begin();
            const auto ni = std::find(neurons.begin(), neurons.end(), d) - neurons.begin();
            const bool selected = row == 1 && (pos == 2 || pos == length - 1) && hi < 2 && ni < 2;
            float expected = x;
            if (selected) {
              switch (k.action) {
                case plan::Action::Zero: expected = 0.0f; break;
                case plan::Action::Scale: expected = 2.5f * x; break;
                case plan::Action::Add: expected = x + k.value.data[ni]; break;
                case plan::Action::Replace: expected = k.value.data[hi * 2 + ni]; break;
                default: break;
              }
            }
            ASSERT_NEAR(y, expected, 1e-5) << plan::action_name(k.action) << " at " << row << "," << pos << "," << h
                                           << "," << d;
          }
    // Rows are independent: the rows outside the selection keep their metric.
    const auto& m0 = r.pass("clean")->metrics[0].per_row;
    const auto& m1 = r.pass("changed")->metrics[0].per_row;
    EXPECT_NEAR(m0[0], m1[0], 1e-5);
    EXPECT_NEAR(m0[2], m1[2], 1e-5);
    EXPECT_GT(std::abs(m0[1] - m1[1]), 1e-6) << plan::action_name(k.action) << " changed nothing downstream";
  }
}

TEST(Interventions, MeanAblationEqualsTheHandComputation) {
  const HookedModel model = tiny_model(Family::Gpt2);
  const auto& c = model.config();
  const int head = 2;
  for (plan::PadSide side : {plan::PadSide::Right, plan::PadSide::Left}) {
    plan::TokenBatch batch{"clean", random_rows(5, 9, c.d_vocab, 22, /*ragged=*/true), side, false};
    for (bool over_positions : {false, true}) {
      plan::HookPlan plan = base_plan(model, {batch});
      plan.passes.push_back(clean_pass("clean", "clean", {z_hook(0)}, {}));
      plan::Pass p = clean_pass("ablated", "clean", {z_hook(0)}, {});
      plan::Intervention in;
      in.hook = z_hook(0);
      in.action = plan::Action::MeanAblate;
      in.source_pass = "clean";
      in.mean_over_positions = over_positions;
      in.select.heads = {head};
      p.interventions.push_back(in);
      plan.passes.push_back(p);
      PlanResults r = run_valid(model, plan);
      const plan::Tensor& z = r.pass("clean")->saves.at(z_hook(0));
      const plan::Tensor& ablated = r.pass("ablated")->saves.at(z_hook(0));
      const int64_t seq = z.shape[1];
      auto start = [&](size_t row) {
        return side == plan::PadSide::Left ? seq - static_cast<int64_t>(batch.rows[row].size()) : 0;
      };
      for (int64_t d = 0; d < c.d_head; ++d) {
        // By hand: per prompt position over the rows that have it, or over every real token.
        double all_sum = 0;
        int all_count = 0;
        std::vector<double> sum(seq, 0.0);
        std::vector<int> count(seq, 0);
        for (size_t row = 0; row < batch.rows.size(); ++row)
          for (size_t i = 0; i < batch.rows[row].size(); ++i) {
            const double v = at4(z, row, start(row) + i, head, d);
            sum[i] += v;
            ++count[i];
            all_sum += v;
            ++all_count;
          }
        for (size_t row = 0; row < batch.rows.size(); ++row)
          for (size_t i = 0; i < batch.rows[row].size(); ++i) {
            const double expected = over_positions ? all_sum / all_count : sum[i] / count[i];
            ASSERT_NEAR(at4(ablated, row, start(row) + i, head, d), expected, 1e-5)
                << "row " << row << " position " << i << (over_positions ? " (over positions)" : "");
            ASSERT_NEAR(at4(ablated, row, start(row) + i, head - 1, d), at4(z, row, start(row) + i, head - 1, d), 1e-6);
          }
      }
    }
  }
}

TEST(Interventions, MeanAblationMetricEqualsReplacingWithTheMean) {
  const HookedModel model = tiny_model(Family::Llama);
  const auto& c = model.config();
  const int rows = 4, length = 7, head = 1;
  plan::TokenBatch batch{"clean", random_rows(rows, length, c.d_vocab, 23), plan::PadSide::Right, false};
  plan::HookPlan plan = base_plan(model, {batch});
  plan.passes.push_back(clean_pass("clean", "clean", {z_hook(1)}, {logit_diff(rows, c.d_vocab)}));
  PlanResults clean = run_valid(model, plan);
  const plan::Tensor& z = clean.pass("clean")->saves.at(z_hook(1));
  plan::Tensor mean{{length, 1, c.d_head}, std::vector<float>(length * c.d_head, 0.0f)};
  for (int i = 0; i < length; ++i)
    for (int d = 0; d < c.d_head; ++d) {
      for (int r = 0; r < rows; ++r) mean.data[i * c.d_head + d] += at4(z, r, i, head, d) / rows;
    }
  plan::Intervention ablate;
  ablate.hook = z_hook(1);
  ablate.action = plan::Action::MeanAblate;
  ablate.source_pass = "clean";
  ablate.select.heads = {head};
  plan::Intervention replace = ablate;
  replace.action = plan::Action::Replace;
  replace.source_pass.clear();
  replace.value = mean;
  plan::Pass a = clean_pass("ablated", "clean", {}, {logit_diff(rows, c.d_vocab)});
  a.interventions = {ablate};
  plan::Pass b = clean_pass("replaced", "clean", {}, {logit_diff(rows, c.d_vocab)});
  b.interventions = {replace};
  plan.passes.push_back(a);
  plan.passes.push_back(b);
  PlanResults r = run_valid(model, plan);
  expect_close(r.pass("ablated")->metrics[0].per_row, r.pass("replaced")->metrics[0].per_row, 1e-5, "mean vs replace");
}

TEST(Interventions, ResampleTakesTheSeededRowAndFreezeKeepsTheCleanRun) {
  const HookedModel model = tiny_model(Family::AttnOnly);
  const auto& c = model.config();
  const int rows = 5, length = 6;
  plan::TokenBatch batch{"clean", random_rows(rows, length, c.d_vocab, 24), plan::PadSide::Right, false};
  plan::HookPlan plan = base_plan(model, {batch});
  plan.passes.push_back(clean_pass("clean", "clean", {z_hook(0), z_hook(1)}, {}));
  plan::Pass resampled = clean_pass("resampled", "clean", {z_hook(0)}, {});
  plan::Intervention in;
  in.hook = z_hook(0);
  in.action = plan::Action::ResampleAblate;
  in.source_pass = "clean";
  in.seed = 5;
  resampled.interventions = {in};
  plan::Pass frozen = clean_pass("frozen", "clean", {z_hook(1)}, {});
  plan::Intervention zero;
  zero.hook = z_hook(0);
  zero.action = plan::Action::Zero;
  plan::Intervention freeze;
  freeze.hook = z_hook(1);
  freeze.action = plan::Action::Freeze;
  frozen.interventions = {zero, freeze};
  plan.passes.push_back(resampled);
  plan.passes.push_back(frozen);
  PlanResults r = run_valid(model, plan);
  const plan::Tensor& z0 = r.pass("clean")->saves.at(z_hook(0));
  const plan::Tensor& got = r.pass("resampled")->saves.at(z_hook(0));
  const int64_t per_row = z0.data.size() / rows;
  std::set<int64_t> drawn;
  for (int64_t t = 0; t < rows; ++t) {
    const int64_t pick = resample_pick(5, t, rows);
    drawn.insert(pick);
    for (int64_t k = 0; k < per_row; ++k) ASSERT_FLOAT_EQ(got.data[t * per_row + k], z0.data[pick * per_row + k]);
  }
  EXPECT_GT(drawn.size(), 1u);
  const plan::Tensor& z1 = r.pass("clean")->saves.at(z_hook(1));
  const plan::Tensor& kept = r.pass("frozen")->saves.at(z_hook(1));
  for (size_t k = 0; k < z1.data.size(); ++k) ASSERT_NEAR(kept.data[k], z1.data[k], 1e-6);
}

TEST(Interventions, OutputSavesReportTheirSelection) {
  const HookedModel model = tiny_model(Family::Gpt2);
  const auto& c = model.config();
  plan::TokenBatch batch{"clean", random_rows(3, 8, c.d_vocab, 25, /*ragged=*/true), plan::PadSide::Left, false};
  plan::HookPlan plan = base_plan(model, {batch});
  plan::Pass p = clean_pass("clean", "clean", {z_hook(0)}, {});
  plan::Save narrow{z_hook(0), {}, true};
  narrow.select.rows = {0, 2};
  narrow.select.positions.index = {-1};
  narrow.select.heads = {1};
  plan.passes.push_back(p);
  plan::Pass q = clean_pass("narrow", "clean", {}, {});
  q.saves = {narrow};
  plan.passes.push_back(q);
  PlanResults r = run_valid(model, plan);
  const plan::Tensor& all = r.pass("clean")->saves.at(z_hook(0));
  const plan::Tensor& some = r.pass("narrow")->saves.at(z_hook(0));
  ASSERT_EQ(some.shape, (std::vector<int64_t>{2, 1, 1, c.d_head}));
  const int64_t last = all.shape[1] - 1;  // left padding: every row's last token
  for (int64_t d = 0; d < c.d_head; ++d) {
    EXPECT_NEAR(some.data[d], at4(all, 0, last, 1, d), 1e-6);
    EXPECT_NEAR(some.data[c.d_head + d], at4(all, 2, last, 1, d), 1e-6);
  }
}

}  // namespace
}  // namespace circuit::rt::testing
