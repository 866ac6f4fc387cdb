// receiver_gradients.h against the per-head-leaf reference (graph_forward with
// receiver_gradients: autograd through a copy of the residual per head) on every family:
// the same gradient at every receiver input, over every column and resumed from a clean
// run's cache at a column; the same sender outputs; and EAP / EAP-IG scores (Patch, Mean,
// Zero) equal to the scores computed the old way from those reference gradients.
#include "runtime/analysis/receiver_gradients.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "runtime/analysis/eap.h"
#include "runtime/analysis/graph_forward.h"
#include "runtime/exec/metric.h"
#include "runtime/exec/plan_tensors.h"
#include "tests/cpp/analysis/edge/edge_fixtures.h"
#include "tests/cpp/runtime/tiny_models.h"

namespace circuit::rt {
namespace {

using formats::Family;

// Prompts of different lengths (left padding) whose corrupt versions change the token before
// the last: columns before the last two are a common prefix of every row.
testing::EdgeCase padded_case(const HookedModel& model, plan::AnalysisKind kind) {
  testing::EdgeCase c = testing::random_case(kind, 3, 8, model.config().d_vocab, 17, {-2});
  c.clean.rows[1].erase(c.clean.rows[1].begin(), c.clean.rows[1].begin() + 2);
  c.corrupt.rows[1].erase(c.corrupt.rows[1].begin(), c.corrupt.rows[1].begin() + 2);
  return c;
}

void expect_close(const at::Tensor& got, const at::Tensor& want, double tolerance, const std::string& what) {
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  const double scale = 1.0 + want.abs().max().item<double>();
  const double error = (got.to(at::kDouble) - want.to(at::kDouble)).abs().max().item<double>();
  EXPECT_LE(error, tolerance * scale) << what;
}

class ReceiverGradients : public ::testing::TestWithParam<Family> {};

TEST_P(ReceiverGradients, EqualThePerHeadLeafGradientsAtEveryReceiver) {
  const HookedModel model = testing::tiny_model(GetParam());
  const EdgeGraph graph(model.config());
  const auto& c = model.config();
  const testing::EdgeCase ec = padded_case(model, plan::AnalysisKind::Eap);
  const TokenBatch clean = to_token_batch(ec.clean, c);
  const plan::Metric& metric = *ec.analysis.metric;

  GraphForwardRequest old_request;
  old_request.receiver_gradients = true;
  old_request.record_senders = true;
  old_request.logits_at = LogitsAt::Last;
  GraphRun old_run = graph_forward(model, graph, clean, old_request);
  metric_per_row(old_run.logits, clean, metric, {}, at::Tensor()).sum().backward();
  const at::Tensor want = old_run.receiver_gradients();  // [b, p, receivers, d]
  EXPECT_GT(want.abs().max().item<double>(), 1e-3);

  // Every column; resumed at column 3 from the clean run's cache; resumed from a cache of
  // columns 0..2 only (HookedModel::forward_prefix).
  const PrefixCache full_cache = model.forward_with_cache(clean, nullptr, LogitsAt::Last);
  const PrefixCache prefix_cache = model.forward_prefix(clean, 3);
  for (const PrefixCache* cache : {static_cast<const PrefixCache*>(nullptr), &full_cache, &prefix_cache}) {
    const std::int64_t first = cache ? 3 : 0;
    ReceiverGradientRequest request;
    request.logits_at = LogitsAt::Last;
    request.prefix = cache;
    request.first_column = first;
    ReceiverGradientRun run = receiver_gradient_forward(model, graph, clean, request);
    expect_close(run.logits, old_run.logits, 1e-5, "logits");
    metric_per_row(run.logits, clean, metric, {}, at::Tensor()).sum().backward();
    const std::int64_t n = clean.seq() - first;
    const at::Tensor old_columns = want.narrow(1, first, n);
    for (int l = 0; l <= c.n_layers; ++l) {
      const int r = graph.first_receiver(l);
      const at::Tensor got = run.receiver_gradients(l);
      const at::Tensor expected = old_columns.narrow(2, r, got.size(0)).permute({2, 0, 1, 3});
      expect_close(got, expected, 1e-5, graph.receivers()[r].name + " from column " + std::to_string(first));
    }
    expect_close(run.sender_outputs, old_run.sender_outputs.narrow(1, first, n).permute({2, 0, 1, 3}), 1e-5,
                 "sender outputs from column " + std::to_string(first));
  }
}

TEST(ForwardPrefix, ResumesOnlyWhereItHoldsEveryEarlierColumn) {
  const HookedModel model = testing::tiny_model(Family::Llama);
  const testing::EdgeCase ec = padded_case(model, plan::AnalysisKind::Eap);
  const TokenBatch clean = to_token_batch(ec.clean, model.config());
  const PrefixCache cache = model.forward_prefix(clean, 4);
  const std::vector<std::int64_t> rows{0, 1, 2};
  const at::Tensor want = model.forward(clean, nullptr, LogitsAt::Last);
  for (std::int64_t column : {2, 4})
    expect_close(model.forward_from(cache, rows, ResumePoint{0, column}, nullptr, LogitsAt::Last), want, 1e-5,
                 "resumed at column " + std::to_string(column));
  EXPECT_THROW(model.forward_from(cache, rows, ResumePoint{0, 5}), std::invalid_argument);
  EXPECT_THROW(model.forward_from(cache, rows, ResumePoint{1, 4}), std::invalid_argument);
  EXPECT_THROW(model.forward_prefix(clean, 0), std::invalid_argument);
}

// EAP the way eap.cpp computed it before receiver_gradients.h: graph_forward's sender outputs
// and per-head-leaf gradients, one einsum over every (sender, receiver) pair.
std::vector<double> reference_scores(const testing::EdgeCase& ec, const HookedModel& model, const EdgeGraph& graph,
                                     int steps) {
  const TokenBatch clean = to_token_batch(ec.clean, model.config());
  const TokenBatch corrupt = to_token_batch(ec.corrupt, model.config());
  const plan::Metric& metric = *ec.analysis.metric;
  GraphForwardRequest record;
  record.record_senders = true;
  GraphRun clean_run = graph_forward(model, graph, clean, record);
  const AblationBaseline baseline =
      ec.analysis.ablation == plan::Ablation::Mean
          ? mean_baseline(clean_run, clean)
          : ablation_baseline(model, graph, clean, &corrupt, ec.analysis.ablation, LogitsAt::All);
  at::Tensor gradient_sum;
  for (int k = 0; k < steps; ++k) {
    GraphForwardRequest request;
    request.receiver_gradients = true;
    if (ec.analysis.kind == plan::AnalysisKind::EapIg) {
      const at::Tensor start = baseline.embed.expand_as(clean_run.embed);
      request.embed = start + (clean_run.embed - start) * (static_cast<double>(k) / steps);
    }
    GraphRun run = graph_forward(model, graph, clean, request);
    metric_per_row(run.logits, clean, metric, {}, at::Tensor()).sum().backward();
    const at::Tensor g = run.receiver_gradients();
    gradient_sum = gradient_sum.defined() ? gradient_sum + g : g;
  }
  const at::Tensor difference = baseline.outputs.expand_as(clean_run.sender_outputs) - clean_run.sender_outputs;
  const at::Tensor scores =
      (at::einsum("bpsd,bprd->sr", {difference, gradient_sum / static_cast<double>(steps)}) / clean.batch())
          .to(at::kDouble)
          .contiguous();
  const auto at = scores.accessor<double, 2>();
  std::vector<double> out;
  for (const GraphEdge& e : graph.edges()) out.push_back(at[e.sender][e.receiver]);
  return out;
}

TEST_P(ReceiverGradients, LeaveEapAndEapIgScoresUnchanged) {
  const HookedModel model = testing::tiny_model(GetParam());
  const EdgeGraph graph(model.config());
  for (plan::AnalysisKind kind : {plan::AnalysisKind::Eap, plan::AnalysisKind::EapIg}) {
    for (plan::Ablation ablation : {plan::Ablation::Patch, plan::Ablation::Mean, plan::Ablation::Zero}) {
      testing::EdgeCase ec = padded_case(model, kind);
      ec.analysis.ablation = ablation;
      ec.analysis.steps = 3;
      const int steps = kind == plan::AnalysisKind::EapIg ? 3 : 1;
      const std::vector<double> want = reference_scores(ec, model, graph, steps);
      const AnalysisResult got = edge_attribution_patching(ec.context(model));
      ASSERT_EQ(got.edges.values.size(), want.size());
      double largest = 0.0;
      for (double v : want) largest = std::max(largest, std::abs(v));
      EXPECT_GT(largest, 1e-3);
      for (std::size_t e = 0; e < want.size(); ++e)
        EXPECT_NEAR(got.edges.values[e], want[e], 1e-5 * (1.0 + largest))
            << graph.edges()[e].name << " " << plan::analysis_kind_name(kind) << " " << plan::ablation_name(ablation);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Families, ReceiverGradients,
                         ::testing::Values(Family::Gpt2, Family::Llama, Family::GptNeoX, Family::AttnOnly),
                         testing::family_test_name);

}  // namespace
}  // namespace circuit::rt
