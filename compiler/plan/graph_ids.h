// Node, receiver and edge ids of the computational graph that circuit analyses and circuits
// use (MIB / EAP-IG spelling): nodes "input", "a{l}.h{h}", "m{l}", "logits"; a head's input as a
// receiver "a{l}.h{h}<q|k|v>"; edges "{sender}->{receiver}". Part of the hook-plan layer: the
// lowering writes these ids, the validator and the runtime's analyses read them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "compiler/plan/hook_plan.h"

namespace circuit::plan {

struct GraphNode {
  enum class Kind { Input, Head, Mlp, Logits } kind = Kind::Input;
  int layer = 0;
  int head = 0;
  char input = 0;  // 'q', 'k', 'v' for a head's input as a receiver; 0 otherwise
  bool operator==(const GraphNode&) const = default;
};

// "a3.h1<k>" and friends; nullopt for anything else (no range check: see node_in_range).
std::optional<GraphNode> parse_graph_node(std::string_view id);
std::string graph_node_id(const GraphNode& node);
std::string edge_id(const GraphNode& sender, const GraphNode& receiver);

// Whether the node exists in a model of this shape (layers, heads, an MLP when d_mlp > 0).
bool node_in_range(const GraphNode& node, const ModelShape& model);

// Whether `sender` can write into `receiver`'s input: the sender is a node (not a head input,
// not the logits), the receiver is a head input, an MLP or the logits, and the sender runs
// before it (input < layer l's heads < layer l's MLP < layer l+1 ... < logits).
bool edge_is_forward(const GraphNode& sender, const GraphNode& receiver);

// Splits "s->r" and parses both ends; nullopt when the text is not an edge of that form.
struct GraphEdge {
  GraphNode sender, receiver;
};
std::optional<GraphEdge> parse_edge_id(std::string_view id);

}  // namespace circuit::plan
