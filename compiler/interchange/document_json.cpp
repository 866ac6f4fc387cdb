// Writing and strict reading of the circuit document's JSON form.
#include "compiler/interchange/document_json.h"

#include <limits>

#include "compiler/interchange/json_reader.h"
#include "compiler/interchange/validate_document.h"

namespace circuit::interchange {
namespace {

using nlohmann::json;

constexpr std::int64_t kIntMax = std::numeric_limits<int>::max();
constexpr std::int64_t kI64Min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kI64Max = std::numeric_limits<std::int64_t>::max();

template <typename T>
void put(json& j, const char* key, const std::optional<T>& value) {
  if (value) j[key] = *value;
}

void put_strings(json& j, const char* key, const std::vector<std::string>& values) {
  if (!values.empty()) j[key] = values;
}

// ---- writing ---------------------------------------------------------------------------------

json model_to_json(const ModelIdentity& m) {
  const ModelShape& s = m.shape;
  json j{{"family", m.family},
         {"name", m.name},
         {"shape",
          {{"n_layers", s.n_layers}, {"n_heads", s.n_heads}, {"n_kv_heads", s.n_kv_heads}, {"d_model", s.d_model},
           {"d_head", s.d_head}, {"d_mlp", s.d_mlp}, {"d_vocab", s.d_vocab}, {"n_ctx", s.n_ctx}}}};
  put(j, "weights_sha256", m.weights_sha256);
  return j;
}

json node_to_json(const Node& n) {
  json j{{"id", n.id}, {"kind", node_kind_name(n.kind)}};
  put(j, "layer", n.layer);
  put(j, "head", n.head);
  put(j, "position", n.position);
  put(j, "feature", n.feature);
  put(j, "token", n.token);
  put(j, "score", n.score);
  put(j, "activation", n.activation);
  put(j, "doc", n.doc);
  put(j, "extensions", n.extensions);
  return j;
}

json edge_to_json(const Edge& e) {
  json j{{"id", e.id}, {"source", e.source}, {"target", e.target}, {"in_circuit", e.in_circuit}};
  if (e.input != EdgeInput::None) j["input"] = edge_input_name(e.input);
  put(j, "score", e.score);
  put(j, "doc", e.doc);
  put(j, "extensions", e.extensions);
  return j;
}

json task_to_json(const Task& t) {
  json j = json::object();
  put(j, "name", t.name);
  put_strings(j, "prompts", t.prompts);
  put(j, "template", t.template_text);
  if (!t.vocab.empty()) j["vocab"] = t.vocab;
  put(j, "seed", t.seed);
  if (!t.pairs.empty()) {
    j["pairs"] = json::array();
    for (const auto& p : t.pairs) j["pairs"].push_back({{"clean", p.clean}, {"corrupt", p.corrupt}});
  }
  put_strings(j, "answers", t.answers);
  put_strings(j, "wrong_answers", t.wrong_answers);
  return j;
}

json claim_to_json(const Claim& c) {
  json j{{"expression", c.expression}, {"comparator", c.comparator}, {"threshold", c.threshold}};
  put(j, "measured", c.measured);
  put(j, "passed", c.passed);
  if (c.conditions) {
    json cond = json::object();
    put(cond, "model", c.conditions->model);
    put(cond, "dtype", c.conditions->dtype);
    put(cond, "device", c.conditions->device);
    put(cond, "seed", c.conditions->seed);
    j["conditions"] = cond;
  }
  put(j, "doc", c.doc);
  put(j, "extensions", c.extensions);
  return j;
}

json provenance_to_json(const Provenance& p) {
  json j{{"tool", p.tool}};
  put(j, "tool_version", p.tool_version);
  put(j, "source_path", p.source_path);
  put(j, "source_sha256", p.source_sha256);
  put(j, "date", p.date);
  put(j, "command", p.command);
  return j;
}

// ---- reading ---------------------------------------------------------------------------------

std::optional<int> opt_int(ObjectReader& r, const char* key, std::int64_t min = 0) {
  const auto v = r.optional_integer(key, min, kIntMax);
  return v ? std::optional<int>(static_cast<int>(*v)) : std::nullopt;
}

// An optional key holding a non-empty array: writing leaves empty arrays out, so an empty one
// read in could not be written back the same.
const json* nonempty_array(ObjectReader& r, const char* key) {
  const json* a = r.optional_array(key);
  if (a != nullptr && a->empty()) throw FormatError(r.path_of(key), "empty array (leave the key out instead)");
  return a;
}

std::vector<std::string> strings(const json& a, const std::string& path) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_string())
      throw FormatError(index_path(path, i), "expected a string, got " + json_type_phrase(a[i]));
    out.push_back(a[i].get<std::string>());
  }
  return out;
}

std::optional<json> extensions(ObjectReader& r) {
  const json* e = r.optional_object("extensions");
  return e ? std::optional<json>(*e) : std::nullopt;
}

ModelIdentity model_from_json(const json& j, const std::string& path) {
  ObjectReader r(j, path);
  ModelIdentity m;
  m.family = r.string("family");
  m.name = r.string("name");
  ObjectReader s(r.object("shape"), r.path_of("shape"));
  auto dim = [&](const char* key) { return static_cast<int>(s.integer(key, 0, kIntMax)); };
  m.shape.n_layers = dim("n_layers");
  m.shape.n_heads = dim("n_heads");
  m.shape.n_kv_heads = dim("n_kv_heads");
  m.shape.d_model = dim("d_model");
  m.shape.d_head = dim("d_head");
  m.shape.d_mlp = dim("d_mlp");
  m.shape.d_vocab = dim("d_vocab");
  m.shape.n_ctx = dim("n_ctx");
  s.finish();
  m.weights_sha256 = r.optional_string("weights_sha256");
  r.finish();
  return m;
}

Node node_from_json(const json& j, const std::string& path) {
  ObjectReader r(j, path);
  Node n;
  n.id = r.string("id");
  const std::string kind = r.string("kind");
  const auto k = parse_node_kind(kind);
  if (!k)
    throw FormatError(r.path_of("kind"),
                      "unknown node kind \"" + kind + "\" (expected input, attention, mlp, mlp_error or logits)");
  n.kind = *k;
  n.layer = opt_int(r, "layer");
  n.head = opt_int(r, "head");
  n.position = opt_int(r, "position");
  n.feature = r.optional_integer("feature", 0, kI64Max);
  n.token = r.optional_integer("token", 0, kI64Max);
  n.score = r.optional_number("score");
  n.activation = r.optional_number("activation");
  n.doc = r.optional_string("doc");
  n.extensions = extensions(r);
  r.finish();
  return n;
}

Edge edge_from_json(const json& j, const std::string& path) {
  ObjectReader r(j, path);
  Edge e;
  e.id = r.string("id");
  e.source = r.string("source");
  e.target = r.string("target");
  if (const auto input = r.optional_string("input")) {
    const auto in = parse_edge_input(*input);
    if (!in) throw FormatError(r.path_of("input"), "unknown input \"" + *input + "\" (expected q, k or v)");
    e.input = *in;
  }
  e.score = r.optional_number("score");
  e.in_circuit = r.boolean("in_circuit");
  e.doc = r.optional_string("doc");
  e.extensions = extensions(r);
  r.finish();
  return e;
}

Task task_from_json(const json& j, const std::string& path) {
  ObjectReader r(j, path);
  Task t;
  t.name = r.optional_string("name");
  if (const json* a = nonempty_array(r, "prompts")) t.prompts = strings(*a, r.path_of("prompts"));
  t.template_text = r.optional_string("template");
  if (const json* v = r.optional_object("vocab")) {
    if (v->empty()) throw FormatError(r.path_of("vocab"), "empty object (leave the key out instead)");
    for (const auto& [slot, words] : v->items()) {
      const std::string p = child_path(r.path_of("vocab"), slot);
      if (!words.is_array()) throw FormatError(p, "expected an array, got " + json_type_phrase(words));
      t.vocab[slot] = strings(words, p);
    }
  }
  t.seed = r.optional_integer("seed", kI64Min, kI64Max);
  if (const json* a = nonempty_array(r, "pairs")) {
    for (std::size_t i = 0; i < a->size(); ++i) {
      ObjectReader p((*a)[i], index_path(r.path_of("pairs"), i));
      t.pairs.push_back({p.string("clean"), p.string("corrupt")});
      p.finish();
    }
  }
  if (const json* a = nonempty_array(r, "answers")) t.answers = strings(*a, r.path_of("answers"));
  if (const json* a = nonempty_array(r, "wrong_answers")) t.wrong_answers = strings(*a, r.path_of("wrong_answers"));
  r.finish();
  return t;
}

Claim claim_from_json(const json& j, const std::string& path) {
  ObjectReader r(j, path);
  Claim c;
  c.expression = r.string("expression");
  c.comparator = r.string("comparator");
  static const char* const kComparators[] = {"<", "<=", ">", ">=", "==", "!="};
  bool known = false;
  for (const char* op : kComparators) known = known || c.comparator == op;
  if (!known)
    throw FormatError(r.path_of("comparator"), "unknown comparator \"" + c.comparator + "\" (expected < <= > >= == !=)");
  c.threshold = r.number("threshold");
  c.measured = r.optional_number("measured");
  c.passed = r.optional_boolean("passed");
  if (const json* cond = r.optional_object("conditions")) {
    ObjectReader cr(*cond, r.path_of("conditions"));
    ClaimConditions cc;
    cc.model = cr.optional_string("model");
    cc.dtype = cr.optional_string("dtype");
    cc.device = cr.optional_string("device");
    cc.seed = cr.optional_integer("seed", kI64Min, kI64Max);
    cr.finish();
    c.conditions = cc;
  }
  c.doc = r.optional_string("doc");
  c.extensions = extensions(r);
  r.finish();
  return c;
}

Provenance provenance_from_json(const json& j, const std::string& path) {
  ObjectReader r(j, path);
  Provenance p;
  p.tool = r.string("tool");
  p.tool_version = r.optional_string("tool_version");
  p.source_path = r.optional_string("source_path");
  p.source_sha256 = r.optional_string("source_sha256");
  p.date = r.optional_string("date");
  p.command = r.optional_string("command");
  r.finish();
  return p;
}

}  // namespace

json document_to_json(const CircuitDocument& doc) {
  json j{{"format", kCircuitFormat}, {"version", doc.version}, {"model", model_to_json(doc.model)}};
  put(j, "name", doc.name);
  put(j, "doc", doc.doc);
  j["nodes"] = json::array();
  for (const auto& n : doc.nodes) j["nodes"].push_back(node_to_json(n));
  j["edges"] = json::array();
  for (const auto& e : doc.edges) j["edges"].push_back(edge_to_json(e));
  if (doc.task) j["task"] = task_to_json(*doc.task);
  if (doc.metric) j["metric"] = {{"name", doc.metric->name}, {"normalized", doc.metric->normalized}};
  j["claims"] = json::array();
  for (const auto& c : doc.claims) j["claims"].push_back(claim_to_json(c));
  if (doc.provenance) j["provenance"] = provenance_to_json(*doc.provenance);
  put(j, "extensions", doc.extensions);
  return j;
}

CircuitDocument document_from_json(const json& j) {
  ObjectReader r(j, "");
  // Format and version first: a document of another kind or a newer version should be named as
  // such, not reported as a pile of unknown keys.
  const json* format = r.any("format");
  if (format == nullptr) throw FormatError("document", std::string("missing \"format\" (expected \"") + kCircuitFormat + "\")");
  if (!format->is_string() || format->get<std::string>() != kCircuitFormat)
    throw FormatError("format", "unsupported format " + format->dump() + " (this build reads \"" + kCircuitFormat +
                                    "\" version " + std::to_string(kCircuitVersion) + ")");
  const json* version = r.any("version");
  if (version == nullptr) throw FormatError("document", "missing \"version\"");
  if (!version->is_number_integer() || version->get<std::int64_t>() != kCircuitVersion)
    throw FormatError("version", "unsupported version " + version->dump() + " (this build reads version " +
                                     std::to_string(kCircuitVersion) + ")");
  CircuitDocument doc;
  doc.version = kCircuitVersion;
  doc.name = r.optional_string("name");
  doc.doc = r.optional_string("doc");
  doc.model = model_from_json(r.object("model"), "model");
  const json& nodes = r.array("nodes");
  for (std::size_t i = 0; i < nodes.size(); ++i) doc.nodes.push_back(node_from_json(nodes[i], index_path("nodes", i)));
  const json& edges = r.array("edges");
  for (std::size_t i = 0; i < edges.size(); ++i) doc.edges.push_back(edge_from_json(edges[i], index_path("edges", i)));
  if (const json* t = r.optional_object("task")) doc.task = task_from_json(*t, "task");
  if (const json* m = r.optional_object("metric")) {
    ObjectReader mr(*m, "metric");
    doc.metric = Metric{mr.string("name"), mr.boolean("normalized")};
    mr.finish();
  }
  const json& claims = r.array("claims");
  for (std::size_t i = 0; i < claims.size(); ++i)
    doc.claims.push_back(claim_from_json(claims[i], index_path("claims", i)));
  if (const json* p = r.optional_object("provenance")) doc.provenance = provenance_from_json(*p, "provenance");
  doc.extensions = extensions(r);
  r.finish();
  return doc;
}

CircuitDocument read_document(const json& j) {
  CircuitDocument doc = document_from_json(j);
  validate_document(doc);
  return doc;
}

CircuitDocument parse_document(const std::string& text, const std::string& what) {
  const json j = parse_json_text(text, what);
  try {
    return read_document(j);
  } catch (const FormatError& e) {
    throw FormatError(what, e.what());
  }
}

}  // namespace circuit::interchange
