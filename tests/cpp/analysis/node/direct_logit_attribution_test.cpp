#include "runtime/analysis/direct_logit_attribution.h"

#include <gtest/gtest.h>

#include "node_fixtures.h"
#include "runtime/exec/metric.h"
#include "runtime/exec/plan_tensors.h"
#include "runtime/model/token_batch.h"
#include "tests/cpp/runtime/tiny_models.h"

namespace circuit::rt {
namespace {

using testing::AnalysisCase;

AnalysisCase dla_case(plan::PadSide side) {
  AnalysisCase c;
  c.analysis.name = "dla";
  c.analysis.kind = plan::AnalysisKind::Dla;
  c.clean = testing::plan_batch("b", testing::random_prompts({6, 9, 4, 9}, 0, 50, 4), side);
  c.analysis.metric = testing::logit_diff_metric(4, 50, 6);
  return c;
}

double sum_of(const plan::Tensor& t) {
  double s = 0;
  for (float x : t.data) s += x;
  return s;
}

class Dla : public ::testing::TestWithParam<formats::Family> {};

// The contributions and bias terms add up to the logit difference the model outputs.
TEST_P(Dla, ContributionsAddUpToTheLogitDifference) {
  HookedModel model = testing::tiny_model(GetParam());
  for (auto side : {plan::PadSide::Left, plan::PadSide::Right}) {
    for (int position : {-1, 2}) {
      AnalysisCase c = dla_case(side);
      c.analysis.metric->position.index = {position};
      AnalysisResult r = direct_logit_attribution(c.context(model));
      TokenBatch batch = to_token_batch(c.clean, model.config());
      const double logit_diff =
          metric_per_row(model.forward(batch), batch, *c.analysis.metric, {}, at::Tensor()).mean().item<double>();
      double total = sum_of(r.tensors.at("heads")) + r.values.at("input") + r.values.at("bias");
      if (r.tensors.count("mlps")) total += sum_of(r.tensors.at("mlps"));
      EXPECT_NEAR(total, logit_diff, 1e-4);
      EXPECT_NEAR(r.values.at("logit"), logit_diff, 1e-5);
      // nodes: input, then each layer's heads and MLP; the same numbers as the tensors.
      EXPECT_EQ(r.nodes.names[0], "input");
      EXPECT_EQ(r.nodes.names[1], "a0.h0");
      EXPECT_NEAR(r.nodes.values[2], r.tensors.at("heads").data[1], 1e-6);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Families, Dla,
                         ::testing::Values(formats::Family::Gpt2, formats::Family::Llama, formats::Family::GptNeoX,
                                           formats::Family::AttnOnly));

TEST(DlaNodes, RestrictedToTheNodesAskedFor) {
  HookedModel model = testing::tiny_model(formats::Family::Gpt2);
  AnalysisCase c = dla_case(plan::PadSide::Left);
  AnalysisResult all = direct_logit_attribution(c.context(model));
  c.analysis.nodes = {"a1.h2", "m0"};
  AnalysisResult some = direct_logit_attribution(c.context(model));
  ASSERT_EQ(some.nodes.names, (std::vector<std::string>{"a1.h2", "m0"}));
  EXPECT_DOUBLE_EQ(some.nodes.values[0], some.tensors.at("heads").data[4 + 2]);
  EXPECT_DOUBLE_EQ(some.nodes.values[1], all.tensors.at("mlps").data[0]);
}

TEST(DlaNodes, KlHasNoDirection) {
  HookedModel model = testing::tiny_model(formats::Family::Gpt2);
  AnalysisCase c = dla_case(plan::PadSide::Left);
  c.analysis.metric->kind = plan::MetricKind::Kl;
  EXPECT_THROW(direct_logit_attribution(c.context(model)), std::invalid_argument);
  c = dla_case(plan::PadSide::Left);
  c.analysis.nodes = {"a7.h0"};
  EXPECT_THROW(direct_logit_attribution(c.context(model)), std::invalid_argument);
}

}  // namespace
}  // namespace circuit::rt
