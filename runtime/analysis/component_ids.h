// Component ids as the analyses and the interchange format spell them (MIB / EAP-IG): "input"
// (the embeddings), "a{l}.h{h}" (a head's output), "a{l}.h{h}<q|k|v>" (a head's query, key or
// value input), "m{l}" (an MLP) and "logits"; parsed and checked against a model. Part of the
// runtime's analysis stage.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runtime/formats/model_config.h"

namespace circuit::rt {

enum class ComponentKind { Input, Head, Mlp, Logits };
enum class HeadInput { None, Q, K, V };

struct ComponentId {
  ComponentKind kind = ComponentKind::Input;
  int layer = -1;
  int head = -1;
  HeadInput input = HeadInput::None;  // only for heads
  bool operator==(const ComponentId&) const = default;
};

// Throws std::invalid_argument ("'a9.h1': layer 9 out of range: layers are 0..1") for a
// malformed id or one outside the model. `what` names the list it came from ("nodes").
ComponentId parse_component(std::string_view id, const formats::ModelConfig& config, const std::string& what);
std::string component_name(const ComponentId& id);
std::string head_name(int layer, int head);  // "a1.h3"

// Every head, layer-major; every MLP (empty without MLPs).
std::vector<ComponentId> all_heads(const formats::ModelConfig& config);
std::vector<ComponentId> all_mlps(const formats::ModelConfig& config);

}  // namespace circuit::rt
