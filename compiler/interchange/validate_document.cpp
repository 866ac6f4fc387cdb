// Cross-reference and range checks of circuit documents.
#include "compiler/interchange/validate_document.h"

#include <regex>
#include <unordered_map>

#include "compiler/interchange/json_reader.h"

namespace circuit::interchange {
namespace {

bool is_sha256(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// ISO-8601 calendar date, optionally with a time and a zone: 2026-11-25, 2026-11-25T13:40:00Z,
// 2026-11-25T13:40:00.123+01:00.
bool is_iso8601(const std::string& s) {
  static const std::regex re(
      R"(\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?)?)");
  return s.size() <= 64 && std::regex_match(s, re);
}

void check_sha256(const std::optional<std::string>& s, const std::string& path) {
  if (s && !is_sha256(*s)) throw FormatError(path, "expected 64 lowercase hex digits (a SHA-256)");
}

void check_below(const std::optional<int>& v, int limit, const std::string& path, const char* what) {
  if (v && limit > 0 && *v >= limit)
    throw FormatError(path, std::to_string(*v) + " is out of range: the model has " + std::to_string(limit) + " " + what);
}

void check_node(const Node& n, const ModelShape& shape, const std::string& path) {
  const bool layered = n.kind == NodeKind::Attention || n.kind == NodeKind::Mlp || n.kind == NodeKind::MlpError;
  const std::string kind = node_kind_name(n.kind);
  if (layered && !n.layer) throw FormatError(path, "a node of kind " + kind + " needs a \"layer\"");
  if (!layered && n.layer) throw FormatError(path + ".layer", "a node of kind " + kind + " has no layer");
  if (n.kind == NodeKind::Attention && !n.head) throw FormatError(path, "a node of kind attention needs a \"head\"");
  if (n.kind != NodeKind::Attention && n.head) throw FormatError(path + ".head", "only attention nodes have a head");
  if (n.feature && n.kind != NodeKind::Mlp) throw FormatError(path + ".feature", "only mlp nodes have a feature");
  if (n.token && n.kind != NodeKind::Input && n.kind != NodeKind::Logits)
    throw FormatError(path + ".token", "only input and logits nodes have a token");
  check_below(n.layer, shape.n_layers, path + ".layer", "layers");
  check_below(n.head, shape.n_heads, path + ".head", "heads");
  check_below(n.position, shape.n_ctx, path + ".position", "positions (n_ctx)");
  if (n.token && shape.d_vocab > 0 && *n.token >= shape.d_vocab)
    throw FormatError(path + ".token", std::to_string(*n.token) + " is out of range: the vocabulary has " +
                                           std::to_string(shape.d_vocab) + " tokens");
  const std::string expected = canonical_node_id(n);
  if (n.id != expected)
    throw FormatError(path + ".id", "\"" + n.id + "\" does not match the node's fields (expected \"" + expected + "\")");
}

}  // namespace

void validate_document(const CircuitDocument& doc) {
  check_sha256(doc.model.weights_sha256, "model.weights_sha256");
  std::unordered_map<std::string, std::size_t> node_index;
  for (std::size_t i = 0; i < doc.nodes.size(); ++i) {
    const std::string path = index_path("nodes", i);
    check_node(doc.nodes[i], doc.model.shape, path);
    const auto [it, fresh] = node_index.emplace(doc.nodes[i].id, i);
    if (!fresh)
      throw FormatError(path + ".id", "duplicate node id \"" + doc.nodes[i].id + "\" (first at " +
                                          index_path("nodes", it->second) + ")");
  }
  std::unordered_map<std::string, std::size_t> edge_index;
  for (std::size_t i = 0; i < doc.edges.size(); ++i) {
    const Edge& e = doc.edges[i];
    const std::string path = index_path("edges", i);
    const auto src = node_index.find(e.source);
    if (src == node_index.end()) throw FormatError(path + ".source", "no node \"" + e.source + "\" in the document");
    const auto dst = node_index.find(e.target);
    if (dst == node_index.end()) throw FormatError(path + ".target", "no node \"" + e.target + "\" in the document");
    if (doc.nodes[src->second].kind == NodeKind::Logits)
      throw FormatError(path + ".source", "logits cannot be the source of an edge");
    if (doc.nodes[dst->second].kind == NodeKind::Input)
      throw FormatError(path + ".target", "input cannot be the target of an edge");
    if (e.input != EdgeInput::None && doc.nodes[dst->second].kind != NodeKind::Attention)
      throw FormatError(path + ".input", "only edges into attention heads name a q, k or v input");
    const std::string expected = canonical_edge_id(e.source, e.target, e.input);
    if (e.id != expected)
      throw FormatError(path + ".id", "\"" + e.id + "\" does not match the edge's fields (expected \"" + expected + "\")");
    const auto [it, fresh] = edge_index.emplace(e.id, i);
    if (!fresh)
      throw FormatError(path + ".id", "duplicate edge \"" + e.id + "\" (first at " + index_path("edges", it->second) + ")");
  }
  if (doc.provenance) {
    check_sha256(doc.provenance->source_sha256, "provenance.source_sha256");
    if (doc.provenance->date && !is_iso8601(*doc.provenance->date))
      throw FormatError("provenance.date", "\"" + *doc.provenance->date + "\" is not an ISO-8601 date (e.g. 2026-11-25T13:40:00Z)");
  }
  if (doc.task && !doc.task->answers.empty() && !doc.task->wrong_answers.empty() &&
      doc.task->answers.size() != doc.task->wrong_answers.size())
    throw FormatError("task.wrong_answers", "has " + std::to_string(doc.task->wrong_answers.size()) +
                                                " entries but answers has " + std::to_string(doc.task->answers.size()));
}

}  // namespace circuit::interchange
