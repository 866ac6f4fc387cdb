// Mapping between attribution-graph JSON (circuit-tracer, Neuronpedia) and circuit documents.
#include "compiler/interchange/attribution_graph.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "compiler/interchange/json_reader.h"
#include "compiler/interchange/validate_document.h"

namespace circuit::interchange {
namespace {

using nlohmann::json;

constexpr const char* kEmbedding = "embedding";
constexpr const char* kTranscoder = "cross layer transcoder";
constexpr const char* kError = "mlp reconstruction error";
constexpr const char* kLogit = "logit";
// Component-level nodes (MIB-style circuits) have no attribution-graph counterpart; export
// writes them with these feature types, and import reads them back.
constexpr const char* kHead = "attention head";
constexpr const char* kMlp = "mlp";

// Node keys that map onto document fields; every other key of a node is kept in its extensions.
const char* const kMappedNodeKeys[] = {"feature_type", "layer", "ctx_idx", "influence", "activation", "clerp"};

std::optional<std::int64_t> parse_int(std::string_view s) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// The middle field of a circuit-tracer node_id "{layer}_{index}_{pos}" (the feature index of
// transcoder nodes, the vocabulary id of embedding and logit nodes).
std::optional<std::int64_t> node_id_index(const std::string& node_id) {
  const auto first = node_id.find('_');
  const auto last = node_id.rfind('_');
  if (first == std::string::npos || last == first) return std::nullopt;
  return parse_int(std::string_view(node_id).substr(first + 1, last - first - 1));
}

std::optional<double> optional_number(const json& node, const char* key, const std::string& path) {
  const auto it = node.find(key);
  if (it == node.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) throw FormatError(child_path(path, key), "expected a number, got " + json_type_phrase(*it));
  const double d = it->get<double>();
  if (!std::isfinite(d)) throw FormatError(child_path(path, key), "number out of range");
  return d;
}

std::optional<std::int64_t> optional_index(const json& node, const char* key, const std::string& path) {
  const auto it = node.find(key);
  if (it == node.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) throw FormatError(child_path(path, key), "expected an integer, got " + json_type_phrase(*it));
  if (it->is_number_unsigned() && it->get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
    throw FormatError(child_path(path, key), "integer out of range");
  return it->get<std::int64_t>();
}

int small_index(std::int64_t v, const std::string& path) {
  if (v < 0 || v > std::numeric_limits<int>::max())
    throw FormatError(path, std::to_string(v) + " is out of range (0.." + std::to_string(std::numeric_limits<int>::max()) + ")");
  return static_cast<int>(v);
}

// "layer" is a string in circuit-tracer ("E" for embeddings, "3"), a number in some exports.
std::optional<int> node_layer(const json& node, const std::string& path) {
  const auto it = node.find("layer");
  const std::string p = child_path(path, "layer");
  if (it == node.end()) throw FormatError(path, "missing required key \"layer\"");
  if (it->is_number_integer()) return small_index(*optional_index(node, "layer", path), p);
  if (!it->is_string()) throw FormatError(p, "expected a string or an integer, got " + json_type_phrase(*it));
  const std::string s = it->get<std::string>();
  if (s == "E") return std::nullopt;
  const auto v = parse_int(s);
  if (!v) throw FormatError(p, "expected a layer number or \"E\", got \"" + s + "\"");
  return small_index(*v, p);
}

Node import_node(const json& j, const std::string& path, int& logit_layer) {
  ObjectReader r(j, path);  // only for the required, typed keys; the rest is read leniently
  const std::string node_id = r.string("node_id");
  const std::string type = r.string("feature_type");
  const auto ctx = r.integer("ctx_idx", 0, std::numeric_limits<int>::max());
  const std::optional<int> layer = node_layer(j, path);
  const auto feature = optional_index(j, "feature", path);
  Node n;
  n.position = static_cast<int>(ctx);
  auto need_layer = [&] {
    if (!layer) throw FormatError(child_path(path, "layer"), "a " + type + " node needs a layer number, got \"E\"");
    return *layer;
  };
  if (type == kEmbedding) {
    n.kind = NodeKind::Input;
    n.token = node_id_index(node_id);
    if (n.token && *n.token < 0) n.token.reset();
  } else if (type == kTranscoder) {
    n.kind = NodeKind::Mlp;
    n.layer = need_layer();
    n.feature = node_id_index(node_id);
    if (!n.feature || *n.feature < 0) n.feature = feature;
    if (!n.feature || *n.feature < 0)
      throw FormatError(child_path(path, "node_id"), "no feature index in \"" + node_id + "\" or \"feature\"");
  } else if (type == kError) {
    n.kind = NodeKind::MlpError;
    n.layer = need_layer();
  } else if (type == kLogit) {
    n.kind = NodeKind::Logits;
    logit_layer = std::max(logit_layer, layer.value_or(0));
    n.token = feature ? feature : node_id_index(node_id);
    if (n.token && *n.token < 0) n.token.reset();
  } else if (type == kHead) {
    n.kind = NodeKind::Attention;
    n.layer = need_layer();
    if (!feature) throw FormatError(child_path(path, "feature"), "an attention head node needs the head index");
    n.head = small_index(*feature, child_path(path, "feature"));
  } else if (type == kMlp) {
    n.kind = NodeKind::Mlp;
    n.layer = need_layer();
  } else {
    throw FormatError(child_path(path, "feature_type"),
                      "unsupported feature type \"" + type + "\" (supported: embedding, cross layer transcoder, "
                      "mlp reconstruction error, logit, attention head, mlp)");
  }
  // Nodes that Circuitry exported without an attribution-graph id carry our own id, which says
  // exactly what they are (including "no position"); it wins over the lossy fields.
  if (const auto ours = parse_node_id(node_id); ours && ours->kind == n.kind) {
    n.layer = ours->layer;
    n.head = ours->head;
    n.position = ours->position;
    n.feature = ours->feature;
    n.token = ours->token;
  }
  n.score = optional_number(j, "influence", path);
  n.activation = optional_number(j, "activation", path);
  if (const auto it = j.find("clerp"); it != j.end() && it->is_string() && !it->get<std::string>().empty())
    n.doc = it->get<std::string>();
  json kept = json::object();
  for (const auto& [key, value] : j.items())
    if (std::find(std::begin(kMappedNodeKeys), std::end(kMappedNodeKeys), key) == std::end(kMappedNodeKeys))
      kept[key] = value;
  if (const auto it = j.find("clerp"); it != j.end() && !(it->is_string() && !it->get<std::string>().empty()))
    kept["clerp"] = *it;  // an empty or non-string clerp is not a doc; keep it as it was
  n.extensions = json{{kAttributionGraphExtension, kept}};
  n.id = canonical_node_id(n);
  return n;
}

const json* stored(const std::optional<json>& extensions) {
  if (!extensions || !extensions->is_object()) return nullptr;
  const auto it = extensions->find(kAttributionGraphExtension);
  return it != extensions->end() && it->is_object() ? &*it : nullptr;
}

std::string exported_node_id(const Node& n, int n_layers) {
  if (const json* s = stored(n.extensions); s && s->contains("node_id") && (*s)["node_id"].is_string())
    return (*s)["node_id"].get<std::string>();
  // Without a position (or an input/logit without a token) the attribution-graph spelling would
  // invent one; our own id keeps the node exact through an import.
  const bool tokened = n.kind != NodeKind::Input && n.kind != NodeKind::Logits;
  if (!n.position || (!tokened && !n.token)) return n.id;
  const std::string pos = std::to_string(*n.position);
  switch (n.kind) {
    case NodeKind::Input: return "E_" + std::to_string(n.token.value_or(0)) + "_" + pos;
    case NodeKind::Logits: return std::to_string(n_layers + 1) + "_" + std::to_string(n.token.value_or(0)) + "_" + pos;
    case NodeKind::MlpError: return std::to_string(*n.layer) + "_-1_" + pos;
    case NodeKind::Mlp:
      if (n.feature) return std::to_string(*n.layer) + "_" + std::to_string(*n.feature) + "_" + pos;
      return n.id;
    case NodeKind::Attention: return n.id;
  }
  return n.id;
}

json export_node(const Node& n, int n_layers) {
  json j = json::object();
  if (const json* s = stored(n.extensions)) j = *s;
  j["node_id"] = exported_node_id(n, n_layers);
  j["ctx_idx"] = n.position.value_or(0);
  switch (n.kind) {
    case NodeKind::Input:
      j["feature_type"] = kEmbedding;
      j["layer"] = "E";
      if (!j.contains("feature")) j["feature"] = n.position.value_or(0);
      break;
    case NodeKind::Logits:
      j["feature_type"] = kLogit;
      j["layer"] = std::to_string(n_layers + 1);
      if (!j.contains("feature")) j["feature"] = n.token.value_or(0);
      break;
    case NodeKind::MlpError:
      j["feature_type"] = kError;
      j["layer"] = std::to_string(*n.layer);
      if (!j.contains("feature")) j["feature"] = -1;
      break;
    case NodeKind::Mlp:
      j["feature_type"] = n.feature ? kTranscoder : kMlp;
      j["layer"] = std::to_string(*n.layer);
      if (!j.contains("feature")) j["feature"] = n.feature ? *n.feature : -1;
      break;
    case NodeKind::Attention:
      j["feature_type"] = kHead;
      j["layer"] = std::to_string(*n.layer);
      j["feature"] = *n.head;
      break;
  }
  if (!j.contains("jsNodeId")) j["jsNodeId"] = j["node_id"];
  if (n.doc) j["clerp"] = *n.doc;
  else if (!j.contains("clerp")) j["clerp"] = "";
  if (n.score) j["influence"] = *n.score;
  if (n.activation) j["activation"] = *n.activation;
  return j;
}

}  // namespace

JsonKind detect_json_kind(const json& j) {
  if (!j.is_object()) return JsonKind::Unknown;
  if (j.contains("format")) return JsonKind::CircuitDocument;
  if (j.contains("nodes") && j.contains("links")) return JsonKind::AttributionGraph;
  return JsonKind::Unknown;
}

CircuitDocument import_attribution_graph(const json& graph, const std::optional<Provenance>& provenance) {
  ObjectReader top(graph, "");
  const json& nodes = top.array("nodes");
  const json& links = top.array("links");
  const json* metadata = top.optional_object("metadata");
  CircuitDocument doc;
  doc.model.family = "unknown";
  doc.model.name = "unknown";
  json kept = json::object();
  for (const auto& [key, value] : graph.items())
    if (key != "nodes" && key != "links") kept[key] = value;
  if (metadata != nullptr) {
    ObjectReader m(*metadata, "metadata");
    if (const auto scan = m.optional_string("scan"); scan && !scan->empty())
      doc.model.name = *scan;
    if (const auto slug = m.optional_string("slug"); slug && !slug->empty())
      doc.name = *slug;
    if (const auto prompt = m.optional_string("prompt"); prompt && !prompt->empty()) {
      doc.task.emplace();
      doc.task->prompts.push_back(*prompt);
    }
  }
  doc.extensions = json{{kAttributionGraphExtension, kept}};

  int logit_layer = 0;
  int max_layer = -1;
  std::unordered_map<std::string, std::size_t> by_node_id;
  std::unordered_map<std::string, std::size_t> by_id;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const std::string path = index_path("nodes", i);
    Node n = import_node(nodes[i], path, logit_layer);
    const std::string node_id = nodes[i]["node_id"].get<std::string>();
    if (!by_node_id.emplace(node_id, i).second)
      throw FormatError(child_path(path, "node_id"), "duplicate node_id \"" + node_id + "\"");
    if (const auto [it, fresh] = by_id.emplace(n.id, i); !fresh)
      throw FormatError(path, "maps to \"" + n.id + "\", as " + index_path("nodes", it->second) + " does");
    if (n.layer) max_layer = std::max(max_layer, *n.layer);
    doc.nodes.push_back(std::move(n));
  }
  // circuit-tracer puts logits at layer n_layers + 1 (embeddings are "E").
  doc.model.shape.n_layers = std::max(logit_layer - 1, max_layer + 1);

  for (std::size_t i = 0; i < links.size(); ++i) {
    const std::string path = index_path("links", i);
    ObjectReader r(links[i], path);
    auto endpoint = [&](const char* key) {
      const std::string node_id = r.string(key);
      const auto it = by_node_id.find(node_id);
      if (it == by_node_id.end()) throw FormatError(r.path_of(key), "no node with node_id \"" + node_id + "\"");
      return doc.nodes[it->second].id;
    };
    Edge e;
    e.source = endpoint("source");
    e.target = endpoint("target");
    e.score = optional_number(links[i], "weight", path);
    e.id = canonical_edge_id(e.source, e.target, EdgeInput::None);
    json rest = json::object();
    for (const auto& [key, value] : links[i].items())
      if (key != "source" && key != "target" && key != "weight") rest[key] = value;
    if (!rest.empty()) e.extensions = json{{kAttributionGraphExtension, rest}};
    doc.edges.push_back(std::move(e));
  }
  doc.provenance = provenance;
  validate_document(doc);
  return doc;
}

json export_attribution_graph(const CircuitDocument& doc) {
  validate_document(doc);  // every edge's nodes exist
  const json* kept = stored(doc.extensions);
  json out = kept ? *kept : json::object();
  json metadata = out.contains("metadata") && out["metadata"].is_object() ? out["metadata"] : json::object();
  metadata["slug"] = doc.name.value_or(doc.model.name);
  metadata["scan"] = doc.model.name;
  if (doc.task && !doc.task->prompts.empty()) metadata["prompt"] = doc.task->prompts.front();
  else if (!metadata.contains("prompt")) metadata["prompt"] = "";
  if (!metadata.contains("prompt_tokens")) metadata["prompt_tokens"] = json::array();
  if (!metadata.contains("transcoder_list")) metadata["transcoder_list"] = json::array();
  if (!metadata.contains("schema_version")) metadata["schema_version"] = 1;
  out["metadata"] = metadata;
  if (!out.contains("qParams"))
    out["qParams"] = {{"pinnedIds", json::array()}, {"supernodes", json::array()}, {"linkType", "both"},
                      {"clickedId", ""}, {"sg_pos", ""}};
  const int n_layers = doc.model.shape.n_layers;
  out["nodes"] = json::array();
  std::unordered_map<std::string, std::string> node_ids;
  for (const Node& n : doc.nodes) {
    json j = export_node(n, n_layers);
    node_ids[n.id] = j["node_id"].get<std::string>();
    out["nodes"].push_back(std::move(j));
  }
  // One link per (source, target): edges into the q, k and v inputs of one head merge, their
  // scores summed.
  out["links"] = json::array();
  std::unordered_map<std::string, std::size_t> link_index;
  for (const Edge& e : doc.edges) {
    if (!e.in_circuit) continue;
    const std::string key = e.source + "->" + e.target;
    if (const auto it = link_index.find(key); it != link_index.end()) {
      json& link = out["links"][it->second];
      link["weight"] = link["weight"].get<double>() + e.score.value_or(0.0);
      continue;
    }
    json link = json::object();
    if (const json* s = stored(e.extensions)) link = *s;
    link["source"] = node_ids.at(e.source);
    link["target"] = node_ids.at(e.target);
    link["weight"] = e.score.value_or(0.0);
    link_index.emplace(key, out["links"].size());
    out["links"].push_back(std::move(link));
  }
  return out;
}

}  // namespace circuit::interchange
