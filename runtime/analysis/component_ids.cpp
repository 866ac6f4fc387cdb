#include "runtime/analysis/component_ids.h"

#include <cctype>
#include <stdexcept>

namespace circuit::rt {
namespace {

// Reads a run of digits at `at` (advancing it); -1 when there is none or it is too long.
int read_int(std::string_view s, size_t& at) {
  const size_t start = at;
  while (at < s.size() && std::isdigit(static_cast<unsigned char>(s[at]))) ++at;
  if (at == start || at - start > 6) return -1;
  return std::stoi(std::string(s.substr(start, at - start)));
}

}  // namespace

ComponentId parse_component(std::string_view id, const formats::ModelConfig& config, const std::string& what) {
  auto fail = [&](const std::string& why) {
    return std::invalid_argument(what + ": '" + std::string(id) + "': " + why);
  };
  ComponentId out;
  if (id == "input") return out;
  if (id == "logits") {
    out.kind = ComponentKind::Logits;
    return out;
  }
  size_t at = 1;
  if (!id.empty() && id[0] == 'm') {
    out.kind = ComponentKind::Mlp;
    out.layer = read_int(id, at);
    if (out.layer < 0 || at != id.size()) throw fail("expected \"m{layer}\"");
    if (config.mlp == formats::MlpKind::None || config.d_mlp <= 0) throw fail("the model has no MLPs");
  } else if (!id.empty() && id[0] == 'a') {
    out.kind = ComponentKind::Head;
    out.layer = read_int(id, at);
    if (out.layer < 0 || id.substr(at, 2) != ".h") throw fail("expected \"a{layer}.h{head}\"");
    at += 2;
    out.head = read_int(id, at);
    if (out.head < 0) throw fail("expected \"a{layer}.h{head}\"");
    const std::string_view rest = id.substr(at);
    if (rest == "<q>") out.input = HeadInput::Q;
    else if (rest == "<k>") out.input = HeadInput::K;
    else if (rest == "<v>") out.input = HeadInput::V;
    else if (!rest.empty()) throw fail("a head's input is \"<q>\", \"<k>\" or \"<v>\"");
    if (out.head >= config.n_heads)
      throw fail("head " + std::to_string(out.head) + " out of range: heads are 0.." +
                 std::to_string(config.n_heads - 1));
  } else {
    throw fail("expected \"input\", \"a{layer}.h{head}\", \"m{layer}\" or \"logits\"");
  }
  if (out.layer >= config.n_layers)
    throw fail("layer " + std::to_string(out.layer) + " out of range: layers are 0.." +
               std::to_string(config.n_layers - 1));
  return out;
}

std::string head_name(int layer, int head) {
  return "a" + std::to_string(layer) + ".h" + std::to_string(head);
}

std::string component_name(const ComponentId& id) {
  switch (id.kind) {
    case ComponentKind::Input: return "input";
    case ComponentKind::Logits: return "logits";
    case ComponentKind::Mlp: return "m" + std::to_string(id.layer);
    case ComponentKind::Head: break;
  }
  std::string name = head_name(id.layer, id.head);
  switch (id.input) {
    case HeadInput::Q: return name + "<q>";
    case HeadInput::K: return name + "<k>";
    case HeadInput::V: return name + "<v>";
    case HeadInput::None: return name;
  }
  return name;
}

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
