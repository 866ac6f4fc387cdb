// Stages order the forward pass: input is stage 0, layer l's attention reads and writes at
// stage 2l+1, its MLP at 2l+2 (or 2l+1 with a parallel residual, where it reads what attention
// reads), the logits at 2L+1. A sender feeds every receiver of a strictly later stage.
#include "runtime/analysis/edge_graph.h"

#include <stdexcept>

#include "compiler/plan/graph_ids.h"
#include "runtime/formats/model_source.h"

namespace circuit::rt {

std::string head_node_name(int layer, int head) {
  return plan::graph_node_id({plan::GraphNode::Kind::Head, layer, head, 0});
}

std::string mlp_node_name(int layer) { return plan::graph_node_id({plan::GraphNode::Kind::Mlp, layer, 0, 0}); }

EdgeGraph::EdgeGraph(const formats::ModelConfig& config) : config_(config) {
  const int L = config.n_layers, H = config.n_heads;
  kv_heads_ = config.n_kv_heads > 0 ? config.n_kv_heads : H;
  has_mlp_ = config.mlp != formats::MlpKind::None && config.d_mlp > 0;
  const bool parallel = config.parallel_residual;

  senders_.push_back({"input", SenderKind::Input, -1, -1, 0});
  for (int l = 0; l < L; ++l) {
    for (int h = 0; h < H; ++h) senders_.push_back({head_node_name(l, h), SenderKind::Head, l, h, 2 * l + 1});
    if (has_mlp_) senders_.push_back({mlp_node_name(l), SenderKind::Mlp, l, -1, parallel ? 2 * l + 1 : 2 * l + 2});
  }

  for (int l = 0; l < L; ++l) {
    const int stage = 2 * l + 1;
    for (int h = 0; h < H; ++h)
      receivers_.push_back({head_node_name(l, h) + "<q>", head_node_name(l, h), ReceiverKind::Query, l, h, stage});
    for (int g = 0; g < kv_heads_; ++g)
      receivers_.push_back({head_node_name(l, g) + "<k>", head_node_name(l, g), ReceiverKind::Key, l, g, stage});
    for (int g = 0; g < kv_heads_; ++g)
      receivers_.push_back({head_node_name(l, g) + "<v>", head_node_name(l, g), ReceiverKind::Value, l, g, stage});
    if (has_mlp_)
      receivers_.push_back({mlp_node_name(l), mlp_node_name(l), ReceiverKind::Mlp, l, -1, parallel ? stage : stage + 1});
  }
  receivers_.push_back({"logits", "logits", ReceiverKind::Logits, L, -1, 2 * L + 1});

  outgoing_.resize(senders_.size());
  incoming_.resize(receivers_.size());
  for (std::size_t r = 0; r < receivers_.size(); ++r) {
    const std::size_t first = edges_.size();
    for (std::size_t s = 0; s < senders_.size(); ++s) {
      if (senders_[s].stage >= receivers_[r].stage) break;  // senders are in stage order
      edge_by_name_.emplace(senders_[s].name + "->" + receivers_[r].name, edges_.size());
      outgoing_[s].push_back(edges_.size());
      edges_.push_back({static_cast<int>(s), static_cast<int>(r), senders_[s].name + "->" + receivers_[r].name});
    }
    incoming_[r] = {first, edges_.size() - first};
  }
}

int EdgeGraph::first_head_sender(int layer) const {
  return 1 + layer * (config_.n_heads + (has_mlp_ ? 1 : 0));
}

int EdgeGraph::mlp_sender(int layer) const {
  return has_mlp_ ? first_head_sender(layer) + config_.n_heads : -1;
}

int EdgeGraph::first_receiver(int layer) const {
  return layer * (config_.n_heads + 2 * kv_heads_ + (has_mlp_ ? 1 : 0));
}

int EdgeGraph::mlp_receiver(int layer) const {
  return has_mlp_ ? first_receiver(layer) + config_.n_heads + 2 * kv_heads_ : -1;
}

std::vector<std::string> EdgeGraph::node_names() const {
  std::vector<std::string> out;
  for (const auto& s : senders_) out.push_back(s.name);
  out.push_back("logits");
  return out;
}

std::optional<int> EdgeGraph::sender_of_node(std::string_view node) const {
  for (std::size_t s = 0; s < senders_.size(); ++s)
    if (senders_[s].name == node) return static_cast<int>(s);
  return std::nullopt;
}

std::optional<std::size_t> EdgeGraph::find_edge(std::string_view name) const {
  auto it = edge_by_name_.find(std::string(name));
  if (it == edge_by_name_.end()) return std::nullopt;
  return it->second;
}

std::size_t EdgeGraph::edge_index(std::string_view name, std::string_view where) const {
  if (auto i = find_edge(name)) return *i;
  std::string message = where.empty() ? std::string() : std::string(where) + ": ";
  message += "unknown edge '" + std::string(name) + "' in the graph of " +
             (config_.name.empty() ? std::string("the model") : config_.name);
  // Edit distance over every edge is quadratic-ish; only worth it for graphs one can list.
  if (edges_.size() <= 20000) {
    const std::string nearest = formats::nearest_name(std::string(name), edge_names());
    if (!nearest.empty()) message += "; did you mean '" + nearest + "'?";
  }
  throw std::invalid_argument(message);
}

std::vector<std::uint8_t> EdgeGraph::edge_set(const std::vector<std::string>& names, std::string_view where) const {
  std::vector<std::uint8_t> flags(edges_.size(), 0);
  for (const auto& name : names) flags[edge_index(name, where)] = 1;
  return flags;
}

std::vector<std::string> EdgeGraph::edge_names() const {
  std::vector<std::string> out;
  out.reserve(edges_.size());
  for (const auto& e : edges_) out.push_back(e.name);
  return out;
}

}  // namespace circuit::rt
