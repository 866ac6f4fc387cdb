// graph_forward's identities on every family: nothing ablated is the plain forward bit for bit;
// every edge ablated under Patch is the corrupt run; ablating every edge into one receiver is
// patching that receiver's input from the corrupt run (checked against plain HookSet patching,
// before the norm for MLPs and after it for heads); one edge into the logits adds exactly the
// sender's difference to the final residual; keeping a few edges (the sum over everything
// upstream minus the kept ones) equals the edge-by-edge sum; zero and mean ablation of everything leave every
// row computing the same thing.
#include "runtime/analysis/graph_forward.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "runtime/exec/plan_tensors.h"
#include "runtime/hooks/hook_set.h"
#include "runtime/model/model_weights.h"
#include "tests/cpp/analysis/edge/edge_fixtures.h"
#include "tests/cpp/runtime/tiny_models.h"

namespace circuit::rt {
namespace {

using formats::Family;

class GraphForward : public ::testing::TestWithParam<Family> {
 protected:
  void SetUp() override {
    model_ = std::make_unique<HookedModel>(testing::tiny_model(GetParam()));
    graph_ = std::make_unique<EdgeGraph>(model_->config());
    c_ = testing::random_case(plan::AnalysisKind::Eap, 3, 7, model_->config().d_vocab, 11, {0, 2, -1});
    clean_ = to_token_batch(c_.clean, model_->config());
    corrupt_ = to_token_batch(c_.corrupt, model_->config());
    baseline_ = ablation_baseline(*model_, *graph_, clean_, &corrupt_, plan::Ablation::Patch, LogitsAt::All);
  }
  at::Tensor run(const std::vector<std::uint8_t>& ablated, const at::Tensor& outputs) {
    GraphForwardRequest request;
    request.ablated = ablated;
    request.ablated_outputs = outputs;
    return graph_forward(*model_, *graph_, clean_, request).logits;
  }
  // Every edge into the receivers named `names` ablated.
  std::vector<std::uint8_t> into(const std::vector<std::string>& names) {
    std::vector<std::uint8_t> flags(graph_->edge_count(), 0);
    for (const auto& e : graph_->edges())
      for (const auto& n : names)
        if (graph_->receivers()[e.receiver].name == n) flags[graph_->edge_index(e.name)] = 1;
    return flags;
  }
  // The clean forward with the receiver's hook point (and head) patched from the corrupt run.
  at::Tensor patched(const std::string& hook, int head) {
    HookSet corrupt_hooks(model_->config());
    corrupt_hooks.cache(hook);
    model_->forward(corrupt_, &corrupt_hooks);
    HookSet hooks(model_->config());
    Selection sel;
    if (head >= 0) sel.heads = {head};
    hooks.replace(hooks.ref(hook), corrupt_hooks.cached(hook), sel);
    return model_->forward(clean_, &hooks);
  }

  std::unique_ptr<HookedModel> model_;
  std::unique_ptr<EdgeGraph> graph_;
  testing::EdgeCase c_;
  TokenBatch clean_, corrupt_;
  AblationBaseline baseline_;
};

TEST_P(GraphForward, NothingAblatedIsThePlainForwardExactly) {
  const at::Tensor plain = model_->forward(clean_);
  EXPECT_TRUE(at::equal(run({}, baseline_.outputs), plain));
  EXPECT_TRUE(at::equal(run(std::vector<std::uint8_t>(graph_->edge_count(), 0), baseline_.outputs), plain));
}

TEST_P(GraphForward, EveryEdgeAblatedUnderPatchIsTheCorruptRun) {
  const at::Tensor corrupt = model_->forward(corrupt_);
  const at::Tensor all = run(std::vector<std::uint8_t>(graph_->edge_count(), 1), baseline_.outputs);
  EXPECT_TRUE(at::allclose(all, corrupt, 1e-4, 1e-4)) << (all - corrupt).abs().max().item<double>();
  EXPECT_FALSE(at::allclose(model_->forward(clean_), corrupt, 1e-2, 1e-2));  // the test has teeth
  EXPECT_TRUE(at::allclose(baseline_.logits, corrupt, 1e-5, 1e-5));
}

// A small circuit kept and everything else ablated (faithfulness) takes the complement form:
// the sum over everything upstream minus the kept edges. It must equal the edge-by-edge sum,
// under Patch (per row) and under Mean (broadcast over rows and positions).
TEST_P(GraphForward, KeepingAFewEdgesEqualsTheEdgeByEdgeSum) {
  std::vector<std::uint8_t> flags(graph_->edge_count(), 1);
  for (std::size_t e = 0; e < flags.size(); e += 7) flags[e] = 0;  // keep one edge in seven
  const AblationBaseline mean = ablation_baseline(*model_, *graph_, clean_, nullptr, plan::Ablation::Mean);
  for (const at::Tensor* outputs : std::vector<const at::Tensor*>{&baseline_.outputs, &mean.outputs}) {
    GraphForwardRequest request;
    request.ablated = flags;
    request.ablated_outputs = *outputs;
    const at::Tensor complement = graph_forward(*model_, *graph_, clean_, request).logits;
    request.sum_ablated_edges_directly = true;
    const at::Tensor direct = graph_forward(*model_, *graph_, clean_, request).logits;
    EXPECT_TRUE(at::allclose(complement, direct, 1e-5, 1e-5)) << (complement - direct).abs().max().item<double>();
    EXPECT_FALSE(at::allclose(direct, model_->forward(clean_), 1e-3, 1e-3));  // something was ablated
  }
}

TEST_P(GraphForward, AblatingEveryEdgeIntoAReceiverPatchesItsInput) {
  const auto& c = model_->config();
  // A head's query (and, with GQA, a KV head's key): after the norm, as the head reads it.
  const at::Tensor q = run(into({"a1.h2<q>"}), baseline_.outputs);
  EXPECT_TRUE(at::allclose(q, patched("blocks.1.attn.hook_q_input", 2), 1e-4, 1e-4));
  const at::Tensor k = run(into({"a1.h1<k>"}), baseline_.outputs);
  EXPECT_TRUE(at::allclose(k, patched("blocks.1.attn.hook_k_input", 1), 1e-4, 1e-4));
  const at::Tensor v = run(into({"a1.h0<v>"}), baseline_.outputs);
  EXPECT_TRUE(at::allclose(v, patched("blocks.1.attn.hook_v_input", 0), 1e-4, 1e-4));
  EXPECT_FALSE(at::allclose(q, model_->forward(clean_), 1e-3, 1e-3));
  if (c.mlp != formats::MlpKind::None) {
    const at::Tensor m = run(into({"m1"}), baseline_.outputs);
    EXPECT_TRUE(at::allclose(m, patched("blocks.1.hook_mlp_in", -1), 1e-4, 1e-4));
  }
  const at::Tensor l = run(into({"logits"}), baseline_.outputs);
  EXPECT_TRUE(at::allclose(l, patched("blocks.1.hook_resid_post", -1), 1e-4, 1e-4));
}

TEST_P(GraphForward, OneEdgeIntoTheLogitsAddsTheSendersDifference) {
  // input -> logits: the final residual gets (corrupt input - clean input); positions match.
  HookSet clean_hooks(model_->config()), corrupt_hooks(model_->config());
  clean_hooks.cache("hook_embed");
  corrupt_hooks.cache("hook_embed");
  model_->forward(clean_, &clean_hooks);
  model_->forward(corrupt_, &corrupt_hooks);
  HookSet hooks(model_->config());
  hooks.add(hooks.ref("blocks.1.hook_resid_post"), corrupt_hooks.cached("hook_embed") - clean_hooks.cached("hook_embed"));
  std::vector<std::uint8_t> flags(graph_->edge_count(), 0);
  flags[graph_->edge_index("input->logits")] = 1;
  EXPECT_TRUE(at::allclose(run(flags, baseline_.outputs), model_->forward(clean_, &hooks), 1e-5, 1e-5));
}

TEST_P(GraphForward, ZeroAndMeanAblationOfEverythingMakeEveryRowTheSame) {
  for (plan::Ablation a : {plan::Ablation::Zero, plan::Ablation::Mean}) {
    const AblationBaseline b = ablation_baseline(*model_, *graph_, clean_, nullptr, a);
    EXPECT_EQ(b.outputs.size(0), 1);
    EXPECT_EQ(b.forwards, a == plan::Ablation::Mean ? 1 : 0);
    const at::Tensor logits = run(std::vector<std::uint8_t>(graph_->edge_count(), 1), b.outputs);
    for (std::int64_t r = 1; r < logits.size(0); ++r)
      EXPECT_TRUE(at::allclose(logits[r], logits[0], 1e-4, 1e-4)) << plan::ablation_name(a);
  }
}

TEST_P(GraphForward, RecordsEverySendersOutputAndTheirSumIsTheResidual) {
  GraphForwardRequest request;
  request.record_senders = true;
  const GraphRun run = graph_forward(*model_, *graph_, clean_, request);
  ASSERT_EQ(run.sender_outputs.size(2), static_cast<std::int64_t>(graph_->senders().size()));
  HookSet hooks(model_->config());
  hooks.cache("blocks.1.hook_resid_post");
  model_->forward(clean_, &hooks);
  // The residual is the sum of every sender plus the constant attention output biases.
  at::Tensor sum = run.sender_outputs.sum(2);
  for (const auto& layer : model_->weights().layers)
    if (layer.o_b.defined()) sum = sum + layer.o_b;
  EXPECT_TRUE(at::allclose(sum, hooks.cached("blocks.1.hook_resid_post"), 1e-4, 1e-4));
}

TEST_P(GraphForward, PatchNeedsRowAlignedCorruptPrompts) {
  auto short_rows = c_.corrupt;
  short_rows.rows[1].pop_back();
  const TokenBatch bad = to_token_batch(short_rows, model_->config());
  try {
    ablation_baseline(*model_, *graph_, clean_, &bad, plan::Ablation::Patch);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("corrupt prompt 1 has 6 tokens, its clean prompt 7"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ablation_baseline(*model_, *graph_, clean_, nullptr, plan::Ablation::Patch), std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Families, GraphForward,
                         ::testing::Values(Family::Gpt2, Family::Llama, Family::GptNeoX, Family::AttnOnly),
                         testing::family_test_name);

}  // namespace
}  // namespace circuit::rt
