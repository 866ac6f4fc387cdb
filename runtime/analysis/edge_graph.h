// EdgeGraph: the full computational graph of a model as the edge-level analyses (EAP, EAP-IG,
// ACDC, circuit measures) see it: sender nodes that write into the residual stream, receivers
// that read from it, and an edge from every sender to every later receiver. Part of the
// runtime's analysis stage; names follow MIB / EAP-IG (plan::Analysis, circuit_document.h).
//
// Nodes and what they are in the forward pass:
//  - "input": the token embedding (hook_embed), plus the learned position embedding
//    (hook_pos_embed) when the residual stream carries it (GPT-2). Rotary models and the
//    attn-only family (positions added to queries and keys only) have input = hook_embed.
//  - "a{l}.h{h}": a head. As a sender its output is its slice of blocks.{l}.attn.hook_result;
//    the attention output bias b_O belongs to no head and stays a constant of the residual.
//    As receivers it has three inputs, "a{l}.h{h}<q>", "<k>" and "<v>": the residual stream as
//    that head's query, key or value reads it, before the block's first norm (an ablation or
//    a gradient acts in residual space; the norm is applied after).
//    Grouped-query attention (n_kv_heads < n_heads): keys and values are computed once per KV
//    head, so the <k> and <v> receivers exist once per KV head and are numbered by the KV head:
//    "a{l}.h{g}<k>" is KV head g (shared by query heads g*G .. g*G+G-1, G = n_heads/n_kv_heads).
//    Without GQA this is the head's own key/value input.
//  - "m{l}": an MLP. Sender output = blocks.{l}.hook_mlp_out (its bias included); receiver
//    input = blocks.{l}.hook_mlp_in (before its norm).
//  - "logits": a receiver only: the final residual stream before ln_final
//    (blocks.{n_layers-1}.hook_resid_post).
// Edges run from a sender to every receiver after it: heads and MLPs of earlier layers, the
// same layer's MLP when it reads the residual after attention (GPT-2, Llama), but not when
// attention and MLP both read resid_pre (GPT-NeoX's parallel residual: no a{l}->m{l} edge).
// An edge's id is "{sender}->{receiver}" ("a0.h1->a1.h3<k>", "m0->logits").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "runtime/formats/model_config.h"

namespace circuit::rt {

enum class SenderKind { Input, Head, Mlp };
enum class ReceiverKind { Query, Key, Value, Mlp, Logits };

struct GraphSender {
  std::string name;  // "input", "a1.h3", "m0"
  SenderKind kind = SenderKind::Input;
  int layer = -1;    // -1 for input
  int head = -1;     // heads only
  int stage = 0;     // position in the forward: a sender feeds receivers of a later stage
};

struct GraphReceiver {
  std::string name;  // "a1.h3<q>", "a1.h0<k>" (KV head 0 under GQA), "m0", "logits"
  std::string node;  // the node it is an input of: "a1.h3", "m0", "logits"
  ReceiverKind kind = ReceiverKind::Logits;
  int layer = 0;     // n_layers for logits
  int head = -1;     // query head (Query), KV head (Key, Value); -1 otherwise
  int stage = 0;
};

struct GraphEdge {
  int sender = 0;    // index into senders()
  int receiver = 0;  // index into receivers()
  std::string name;  // "{sender}->{receiver}"
};

class EdgeGraph {
 public:
  explicit EdgeGraph(const formats::ModelConfig& config);

  const formats::ModelConfig& config() const { return config_; }
  // Senders in forward order: input, then per layer its heads, then its MLP.
  const std::vector<GraphSender>& senders() const { return senders_; }
  // Receivers in forward order: per layer the heads' <q> (n_heads), <k> and <v> (n_kv_heads
  // each), then the MLP, and last the logits.
  const std::vector<GraphReceiver>& receivers() const { return receivers_; }
  // Edges grouped by receiver (in receiver order), each group in sender order.
  const std::vector<GraphEdge>& edges() const { return edges_; }
  std::size_t edge_count() const { return edges_.size(); }
  // Edge indices into receiver r: the contiguous range [first, first + count).
  std::pair<std::size_t, std::size_t> incoming(int receiver) const { return incoming_[receiver]; }
  // Edge indices out of sender s, in receiver order.
  const std::vector<std::size_t>& outgoing(int sender) const { return outgoing_[sender]; }
  // Every node id in forward order ("input", "a0.h0", ..., "m0", ..., "logits").
  std::vector<std::string> node_names() const;
  // Index of the sender / receiver whose node is `node` ("a1.h3"), if any.
  std::optional<int> sender_of_node(std::string_view node) const;

  std::optional<std::size_t> find_edge(std::string_view name) const;
  // Like find_edge, but throws std::invalid_argument ("unknown edge 'x' in the graph of
  // <model>; did you mean 'y'?") naming `where` first when it is not empty.
  std::size_t edge_index(std::string_view name, std::string_view where = {}) const;
  // Flags (one per edge) from a list of edge names; throws like edge_index.
  std::vector<std::uint8_t> edge_set(const std::vector<std::string>& names, std::string_view where = {}) const;
  std::vector<std::string> edge_names() const;

  // First sender index of layer l's heads (l == n_layers: one past the last layer's MLP).
  int first_head_sender(int layer) const;
  int mlp_sender(int layer) const;       // -1 when the model has no MLP
  int first_receiver(int layer) const;   // layer l's first <q> receiver; n_layers: logits
  int mlp_receiver(int layer) const;     // -1 when the model has no MLP
  int logits_receiver() const { return static_cast<int>(receivers_.size()) - 1; }
  bool has_mlp() const { return has_mlp_; }
  int kv_heads() const { return kv_heads_; }

 private:
  formats::ModelConfig config_;
  bool has_mlp_ = false;
  int kv_heads_ = 0;
  std::vector<GraphSender> senders_;
  std::vector<GraphReceiver> receivers_;
  std::vector<GraphEdge> edges_;
  std::vector<std::pair<std::size_t, std::size_t>> incoming_;
  std::vector<std::vector<std::size_t>> outgoing_;
  std::unordered_map<std::string, std::size_t> edge_by_name_;
};

// The node id of head h in layer l ("a1.h3") and of layer l's MLP ("m1").
std::string head_node_name(int layer, int head);
std::string mlp_node_name(int layer);

}  // namespace circuit::rt
