#include "compiler/plan/graph_ids.h"

#include <charconv>

namespace circuit::plan {
namespace {

// Reads a non-negative decimal int at the front of `text` (no sign, no leading '+', at most
// 9 digits so it fits an int); advances `text`.
std::optional<int> read_index(std::string_view& text) {
  size_t n = 0;
  while (n < text.size() && n < 10 && text[n] >= '0' && text[n] <= '9') ++n;
  if (n == 0 || n > 9 || (n > 1 && text[0] == '0')) return std::nullopt;
  int value = 0;
  std::from_chars(text.data(), text.data() + n, value);
  text.remove_prefix(n);
  return value;
}

// Where a node runs in the forward: 0 input, 2l+1 layer l's attention, 2l+2 layer l's MLP,
// a large number for the logits.
long order(const GraphNode& n) {
  switch (n.kind) {
    case GraphNode::Kind::Input: return 0;
    case GraphNode::Kind::Head: return 2L * n.layer + 1;
    case GraphNode::Kind::Mlp: return 2L * n.layer + 2;
    case GraphNode::Kind::Logits: return 1L << 40;
  }
  return 0;
}

}  // namespace

std::optional<GraphNode> parse_graph_node(std::string_view id) {
  GraphNode node;
  if (id == "input") return node;
  if (id == "logits") {
    node.kind = GraphNode::Kind::Logits;
    return node;
  }
  if (id.size() < 2 || (id[0] != 'a' && id[0] != 'm')) return std::nullopt;
  const bool head = id[0] == 'a';
  id.remove_prefix(1);
  auto layer = read_index(id);
  if (!layer) return std::nullopt;
  node.layer = *layer;
  if (!head) {
    if (!id.empty()) return std::nullopt;
    node.kind = GraphNode::Kind::Mlp;
    return node;
  }
  node.kind = GraphNode::Kind::Head;
  if (id.substr(0, 2) != ".h") return std::nullopt;
  id.remove_prefix(2);
  auto index = read_index(id);
  if (!index) return std::nullopt;
  node.head = *index;
  if (id.empty()) return node;
  if (id.size() != 3 || id[0] != '<' || id[2] != '>' || (id[1] != 'q' && id[1] != 'k' && id[1] != 'v'))
    return std::nullopt;
  node.input = id[1];
  return node;
}

std::string graph_node_id(const GraphNode& node) {
  switch (node.kind) {
    case GraphNode::Kind::Input: return "input";
    case GraphNode::Kind::Logits: return "logits";
    case GraphNode::Kind::Mlp: return "m" + std::to_string(node.layer);
    case GraphNode::Kind::Head: {
      std::string id = "a" + std::to_string(node.layer) + ".h" + std::to_string(node.head);
      if (node.input) id += std::string("<") + node.input + ">";
      return id;
    }
  }
  return "";
}

std::string edge_id(const GraphNode& sender, const GraphNode& receiver) {
  return graph_node_id(sender) + "->" + graph_node_id(receiver);
}

bool node_in_range(const GraphNode& node, const ModelShape& model) {
  switch (node.kind) {
    case GraphNode::Kind::Input:
    case GraphNode::Kind::Logits: return true;
    case GraphNode::Kind::Mlp: return model.d_mlp > 0 && node.layer < model.n_layers;
    case GraphNode::Kind::Head: return node.layer < model.n_layers && node.head < model.n_heads;
  }
  return false;
}

bool edge_is_forward(const GraphNode& sender, const GraphNode& receiver) {
  if (sender.kind == GraphNode::Kind::Logits || sender.input) return false;
  if (receiver.kind == GraphNode::Kind::Input) return false;
  if (receiver.kind == GraphNode::Kind::Head && !receiver.input) return false;
  return order(sender) < order(receiver);
}

std::optional<GraphEdge> parse_edge_id(std::string_view id) {
  const size_t arrow = id.find("->");
  if (arrow == std::string_view::npos) return std::nullopt;
  auto sender = parse_graph_node(id.substr(0, arrow));
  auto receiver = parse_graph_node(id.substr(arrow + 2));
  if (!sender || !receiver) return std::nullopt;
  return GraphEdge{*sender, *receiver};
}

}  // namespace circuit::plan
