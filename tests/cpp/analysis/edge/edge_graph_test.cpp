// The full graph of each family: node and edge counts, MIB names, GQA's per-KV-head key/value
// receivers, GPT-NeoX's missing same-layer attention -> MLP edges, lookups and their errors.
#include "runtime/analysis/edge_graph.h"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

#include "tests/cpp/runtime/tiny_models.h"

namespace circuit::rt {
namespace {

using formats::Family;
using testing::tiny_config;

bool has(const EdgeGraph& g, const std::string& edge) { return g.find_edge(edge).has_value(); }

TEST(EdgeGraph, Gpt2HasEveryEdgeFromEachSenderToEachLaterReceiver) {
  const EdgeGraph g(tiny_config(Family::Gpt2));  // 2 layers, 4 heads, MLPs
  EXPECT_EQ(g.senders().size(), 11u);    // input, 2 x (4 heads + mlp)
  EXPECT_EQ(g.receivers().size(), 27u);  // 2 x (4 q + 4 k + 4 v + mlp) + logits
  // layer 0 heads: 12 x 1; m0: 5; layer 1 heads: 12 x 6; m1: 10; logits: 11.
  EXPECT_EQ(g.edge_count(), 12u + 5u + 72u + 10u + 11u);
  EXPECT_TRUE(has(g, "input->a0.h0<q>"));
  EXPECT_TRUE(has(g, "a0.h3->m0"));
  EXPECT_TRUE(has(g, "m0->a1.h2<v>"));
  EXPECT_TRUE(has(g, "m1->logits"));
  EXPECT_FALSE(has(g, "a0.h0->a0.h1<q>"));  // no edges within a layer's attention
  EXPECT_FALSE(has(g, "a1.h0->m0"));         // nor backwards
  EXPECT_FALSE(has(g, "m0->m0"));
  EXPECT_EQ(g.node_names().front(), "input");
  EXPECT_EQ(g.node_names().back(), "logits");
  EXPECT_EQ(g.node_names().size(), 12u);
}

TEST(EdgeGraph, ParallelResidualHasNoSameLayerAttentionToMlpEdge) {
  const EdgeGraph g(tiny_config(Family::GptNeoX));
  EXPECT_FALSE(has(g, "a0.h0->m0"));
  EXPECT_FALSE(has(g, "a1.h2->m1"));
  EXPECT_TRUE(has(g, "input->m0"));
  EXPECT_TRUE(has(g, "a0.h2->m1"));
  EXPECT_TRUE(has(g, "m0->a1.h0<q>"));
  EXPECT_TRUE(has(g, "m0->m1"));
  EXPECT_EQ(g.edge_count(), 12u + 1u + 72u + 6u + 11u);
}

TEST(EdgeGraph, GroupedQueryAttentionHasKeyAndValueReceiversPerKvHead) {
  const auto c = tiny_config(Family::Llama);  // 4 heads, 2 KV heads
  const EdgeGraph g(c);
  EXPECT_EQ(g.receivers().size(), 2u * (4 + 2 + 2 + 1) + 1);
  EXPECT_TRUE(has(g, "a0.h3->a1.h1<k>"));
  EXPECT_TRUE(has(g, "a0.h3->a1.h3<q>"));
  EXPECT_FALSE(has(g, "a0.h0->a1.h2<k>"));  // KV heads are 0..1
  EXPECT_FALSE(has(g, "a0.h0->a1.h3<v>"));
  EXPECT_EQ(g.edge_count(), 8u + 5u + 48u + 10u + 11u);
  for (const auto& r : g.receivers())
    if (r.kind == ReceiverKind::Key || r.kind == ReceiverKind::Value) EXPECT_LT(r.head, 2) << r.name;
}

TEST(EdgeGraph, AttentionOnlyModelsHaveHeadsInputAndLogits) {
  const EdgeGraph g(tiny_config(Family::AttnOnly));
  EXPECT_FALSE(g.has_mlp());
  EXPECT_EQ(g.senders().size(), 9u);
  EXPECT_EQ(g.edge_count(), 12u + 60u + 9u);
  EXPECT_EQ(g.mlp_sender(0), -1);
  EXPECT_EQ(g.mlp_receiver(1), -1);
}

TEST(EdgeGraph, EdgesAreGroupedByReceiverInForwardOrder) {
  for (Family f : {Family::Gpt2, Family::Llama, Family::GptNeoX, Family::AttnOnly}) {
    const EdgeGraph g(tiny_config(f));
    std::size_t next = 0;
    std::set<std::string> names;
    for (std::size_t r = 0; r < g.receivers().size(); ++r) {
      const auto [first, count] = g.incoming(static_cast<int>(r));
      EXPECT_EQ(first, next);
      for (std::size_t e = first; e < first + count; ++e) {
        const GraphEdge& edge = g.edges()[e];
        EXPECT_EQ(edge.receiver, static_cast<int>(r));
        EXPECT_EQ(edge.name, g.senders()[edge.sender].name + "->" + g.receivers()[r].name);
        EXPECT_LT(g.senders()[edge.sender].stage, g.receivers()[r].stage);
        EXPECT_EQ(g.edge_index(edge.name), e);
        names.insert(edge.name);
      }
      next = first + count;
    }
    EXPECT_EQ(next, g.edge_count());
    EXPECT_EQ(names.size(), g.edge_count());
    std::size_t out = 0;
    for (std::size_t s = 0; s < g.senders().size(); ++s) out += g.outgoing(static_cast<int>(s)).size();
    EXPECT_EQ(out, g.edge_count());
    // Every sender reaches the logits.
    for (const auto& s : g.senders()) EXPECT_TRUE(has(g, s.name + "->logits")) << s.name;
  }
}

TEST(EdgeGraph, LayerIndexHelpersPointAtTheRightNodes) {
  const EdgeGraph g(tiny_config(Family::Gpt2));
  EXPECT_EQ(g.senders()[g.first_head_sender(1)].name, "a1.h0");
  EXPECT_EQ(g.senders()[g.mlp_sender(1)].name, "m1");
  EXPECT_EQ(g.receivers()[g.first_receiver(1)].name, "a1.h0<q>");
  EXPECT_EQ(g.receivers()[g.mlp_receiver(0)].name, "m0");
  EXPECT_EQ(g.receivers()[g.logits_receiver()].name, "logits");
  EXPECT_EQ(g.sender_of_node("a1.h2"), g.first_head_sender(1) + 2);
  EXPECT_FALSE(g.sender_of_node("logits").has_value());
}

TEST(EdgeGraph, UnknownEdgeNamesTheNearestOne) {
  auto c = tiny_config(Family::AttnOnly);
  c.name = "tiny-attn";
  const EdgeGraph g(c);
  try {
    g.edge_index("a0.h1->a1.h3<kk>", "analysis 'x'");
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("analysis 'x': unknown edge 'a0.h1->a1.h3<kk>' in the graph of tiny-attn"), std::string::npos) << what;
    EXPECT_NE(what.find("did you mean 'a0.h1->a1.h3<k>'?"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos);
  }
  const auto flags = g.edge_set({"input->logits", "a1.h0->logits"});
  EXPECT_EQ(std::count(flags.begin(), flags.end(), 1), 2);
  EXPECT_THROW(g.edge_set({"input->logit"}), std::invalid_argument);
}

}  // namespace
}  // namespace circuit::rt
