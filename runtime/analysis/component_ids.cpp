#include "runtime/analysis/component_ids.h"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "compiler/plan/graph_ids.h"

namespace circuit::rt {
namespace {

// The ids' spelling lives in one place, the plan layer's graph ids; these convert.
plan::GraphNode to_graph_node(const ComponentId& id) {
  plan::GraphNode node;
  node.layer = std::max(id.layer, 0);
  node.head = std::max(id.head, 0);
  switch (id.kind) {
    case ComponentKind::Input: node.kind = plan::GraphNode::Kind::Input; break;
    case ComponentKind::Head: node.kind = plan::GraphNode::Kind::Head; break;
    case ComponentKind::Mlp: node.kind = plan::GraphNode::Kind::Mlp; break;
    case ComponentKind::Logits: node.kind = plan::GraphNode::Kind::Logits; break;
  }
  node.input = id.input == HeadInput::Q ? 'q' : id.input == HeadInput::K ? 'k' : id.input == HeadInput::V ? 'v' : 0;
  return node;
}

}  // namespace

ComponentId parse_component(std::string_view id, const formats::ModelConfig& config, const std::string& what) {
  auto fail = [&](const std::string& why) {
    return std::invalid_argument(what + ": '" + std::string(id) + "': " + why);
  };
  const std::optional<plan::GraphNode> node = plan::parse_graph_node(id);
  if (!node)
    throw fail("expected \"input\", \"a{layer}.h{head}\" (a head's input: \"<q>\", \"<k>\" or \"<v>\" after it), "
               "\"m{layer}\" or \"logits\"");
  ComponentId out;
  switch (node->kind) {
    case plan::GraphNode::Kind::Input: return out;
    case plan::GraphNode::Kind::Logits: out.kind = ComponentKind::Logits; return out;
    case plan::GraphNode::Kind::Mlp:
      out.kind = ComponentKind::Mlp;
      out.layer = node->layer;
      if (config.mlp == formats::MlpKind::None || config.d_mlp <= 0) throw fail("the model has no MLPs");
      break;
    case plan::GraphNode::Kind::Head:
      out.kind = ComponentKind::Head;
      out.layer = node->layer;
      out.head = node->head;
      out.input = node->input == 'q' ? HeadInput::Q : node->input == 'k' ? HeadInput::K
                  : node->input == 'v' ? HeadInput::V : HeadInput::None;
      if (out.head >= config.n_heads)
        throw fail("head " + std::to_string(out.head) + " out of range: heads are 0.." +
                   std::to_string(config.n_heads - 1));
      break;
  }
  if (out.layer >= config.n_layers)
    throw fail("layer " + std::to_string(out.layer) + " out of range: layers are 0.." +
               std::to_string(config.n_layers - 1));
  return out;
}

std::string head_name(int layer, int head) {
  return component_name({ComponentKind::Head, layer, head, HeadInput::None});
}

std::string component_name(const ComponentId& id) { return plan::graph_node_id(to_graph_node(id)); }

std::vector<ComponentId> all_heads(const formats::ModelConfig& config) {
  std::vector<ComponentId> out;
  for (int l = 0; l < config.n_layers; ++l)
    for (int h = 0; h < config.n_heads; ++h) out.push_back({ComponentKind::Head, l, h, HeadInput::None});
  return out;
}

std::vector<ComponentId> all_mlps(const formats::ModelConfig& config) {
  std::vector<ComponentId> out;
  if (config.mlp == formats::MlpKind::None || config.d_mlp <= 0) return out;
  for (int l = 0; l < config.n_layers; ++l) out.push_back({ComponentKind::Mlp, l, -1, HeadInput::None});
  return out;
}

}  // namespace circuit::rt
