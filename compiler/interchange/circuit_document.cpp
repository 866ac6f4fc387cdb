// Names of node kinds and edge inputs, and the canonical spelling of node and edge ids.
#include "compiler/interchange/circuit_document.h"

#include <charconv>
#include <limits>

namespace circuit::interchange {

const char* node_kind_name(NodeKind kind) {
  switch (kind) {
    case NodeKind::Input: return "input";
    case NodeKind::Attention: return "attention";
    case NodeKind::Mlp: return "mlp";
    case NodeKind::MlpError: return "mlp_error";
    case NodeKind::Logits: return "logits";
  }
  return "input";
}

std::optional<NodeKind> parse_node_kind(const std::string& text) {
  for (NodeKind k : {NodeKind::Input, NodeKind::Attention, NodeKind::Mlp, NodeKind::MlpError, NodeKind::Logits})
    if (text == node_kind_name(k)) return k;
  return std::nullopt;
}

const char* edge_input_name(EdgeInput input) {
  switch (input) {
    case EdgeInput::Q: return "q";
    case EdgeInput::K: return "k";
    case EdgeInput::V: return "v";
    case EdgeInput::None: return "";
  }
  return "";
}

std::optional<EdgeInput> parse_edge_input(const std::string& text) {
  if (text == "q") return EdgeInput::Q;
  if (text == "k") return EdgeInput::K;
  if (text == "v") return EdgeInput::V;
  return std::nullopt;
}

std::string canonical_node_id(const Node& node) {
  const auto layer = std::to_string(node.layer.value_or(0));
  std::string id;
  switch (node.kind) {
    case NodeKind::Input: id = "input"; break;
    case NodeKind::Logits: id = "logits"; break;
    case NodeKind::Attention: id = "a" + layer + ".h" + std::to_string(node.head.value_or(0)); break;
    case NodeKind::Mlp: id = "m" + layer; break;
    case NodeKind::MlpError: id = "m" + layer + ".err"; break;
  }
  if (node.token) id += ".t" + std::to_string(*node.token);
  if (node.feature) id += ".f" + std::to_string(*node.feature);
  if (node.position) id += "@" + std::to_string(*node.position);
  return id;
}

namespace {

// Reads the decimal digits at `pos` (no sign); false when there are none or they overflow.
template <typename T>
bool read_number(const std::string& s, std::size_t& pos, T& out) {
  const char* begin = s.data() + pos;
  const char* end = s.data() + s.size();
  if (begin == end || *begin < '0' || *begin > '9') return false;
  const auto [next, ec] = std::from_chars(begin, end, out);
  if (ec != std::errc()) return false;
  pos = static_cast<std::size_t>(next - s.data());
  return true;
}

bool eat(const std::string& s, std::size_t& pos, const char* word) {
  const std::string w(word);
  if (s.compare(pos, w.size(), w) != 0) return false;
  pos += w.size();
  return true;
}

}  // namespace

std::optional<Node> parse_node_id(const std::string& text) {
  Node n;
  std::size_t pos = 0;
  int layer = 0;
  if (eat(text, pos, "input")) {
    n.kind = NodeKind::Input;
  } else if (eat(text, pos, "logits")) {
    n.kind = NodeKind::Logits;
  } else if (eat(text, pos, "a")) {
    int head = 0;
    if (!read_number(text, pos, layer) || !eat(text, pos, ".h") || !read_number(text, pos, head)) return std::nullopt;
    n.kind = NodeKind::Attention;
    n.layer = layer;
    n.head = head;
  } else if (eat(text, pos, "m")) {
    if (!read_number(text, pos, layer)) return std::nullopt;
    n.kind = eat(text, pos, ".err") ? NodeKind::MlpError : NodeKind::Mlp;
    n.layer = layer;
  } else {
    return std::nullopt;
  }
  std::int64_t value = 0;
  if (eat(text, pos, ".t")) {
    if (!read_number(text, pos, value)) return std::nullopt;
    n.token = value;
  }
  if (eat(text, pos, ".f")) {
    if (!read_number(text, pos, value)) return std::nullopt;
    n.feature = value;
  }
  if (eat(text, pos, "@")) {
    int position = 0;
    if (!read_number(text, pos, position)) return std::nullopt;
    n.position = position;
  }
  if (pos != text.size()) return std::nullopt;
  if (n.token && n.kind != NodeKind::Input && n.kind != NodeKind::Logits) return std::nullopt;
  if (n.feature && n.kind != NodeKind::Mlp) return std::nullopt;
  // Only spellings canonical_node_id gives back ("a01.h1" and "m3.t5" are not ids).
  if (canonical_node_id(n) != text) return std::nullopt;
  return n;
}

std::string canonical_edge_id(const std::string& source, const std::string& target, EdgeInput input) {
  std::string id = source + "->" + target;
  if (input != EdgeInput::None) id += std::string("<") + edge_input_name(input) + ">";
  return id;
}

}  // namespace circuit::interchange
