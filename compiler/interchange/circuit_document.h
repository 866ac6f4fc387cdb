// CircuitDocument: the in-memory form of a circuit interchange document ("format":
// "circuitry.circuit", "version": 1) — model identity, nodes, edges, task, metric, claims and
// provenance. Part of the compiler's interchange stage; its JSON form is in document_json.h and
// its published schema in schema/circuit.schema.json.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace circuit::interchange {

inline constexpr const char* kCircuitFormat = "circuitry.circuit";
inline constexpr int kCircuitVersion = 1;

// The shape of the model a circuit lives in. 0 means "not known" (e.g. after importing an
// attribution graph, which names the model but does not give its shape).
struct ModelShape {
  int n_layers = 0;
  int n_heads = 0;
  int n_kv_heads = 0;
  int d_model = 0;
  int d_head = 0;
  int d_mlp = 0;
  int d_vocab = 0;
  int n_ctx = 0;
  bool operator==(const ModelShape&) const = default;
};

struct ModelIdentity {
  std::string family;  // "llama", "gpt2", "gpt-neox", "attn-only", or "unknown"
  std::string name;    // checkpoint or short name
  ModelShape shape;
  std::optional<std::string> weights_sha256;  // 64 lowercase hex digits
  bool operator==(const ModelIdentity&) const = default;
};

// What a node is. Ids follow the MIB / EAP-IG convention ("input", "a3.h1", "m2", "logits"),
// extended with a token (".t464"), a feature (".f42"), the error term (".err") and a position
// ("@5") for the per-token nodes of attribution graphs; canonical_node_id() spells them.
enum class NodeKind {
  Input,      // token embeddings (+ positions): "input"
  Attention,  // one attention head: "a{layer}.h{head}"
  Mlp,        // an MLP layer, or one of its (transcoder) features: "m{layer}", "m{layer}.f{feature}"
  MlpError,   // the part of an MLP's output its transcoder does not reconstruct: "m{layer}.err"
  Logits,     // the unembedding output: "logits"
};

struct Node {
  std::string id;
  NodeKind kind = NodeKind::Input;
  std::optional<int> layer;             // Attention, Mlp, MlpError
  std::optional<int> head;              // Attention only
  std::optional<int> position;          // token position, when the node is per-position
  std::optional<std::int64_t> feature;  // transcoder / SAE feature index (Mlp)
  std::optional<std::int64_t> token;    // vocabulary id (Input, Logits)
  std::optional<double> score;          // importance (EAP score, attribution-graph influence)
  std::optional<double> activation;     // the feature's activation, where known
  std::optional<std::string> doc;       // what the node does, in words
  std::optional<nlohmann::json> extensions;  // any tool's own data, kept verbatim
  bool operator==(const Node&) const = default;
};

// Which input of an attention head an edge feeds; None for every other target.
enum class EdgeInput { None, Q, K, V };

struct Edge {
  std::string id;  // "{source}->{target}" with "<q>", "<k>" or "<v>" appended for an input
  std::string source;
  std::string target;
  EdgeInput input = EdgeInput::None;
  std::optional<double> score;
  bool in_circuit = true;
  std::optional<std::string> doc;
  std::optional<nlohmann::json> extensions;
  bool operator==(const Edge&) const = default;
};

struct PromptPair {
  std::string clean;
  std::string corrupt;
  bool operator==(const PromptPair&) const = default;
};

// The task a circuit was found on: literal prompts, or a template with slot vocabularies and a
// seed; clean/corrupt pairs; answers and wrong answers (aligned with prompts or pairs).
struct Task {
  std::optional<std::string> name;
  std::vector<std::string> prompts;
  std::optional<std::string> template_text;  // JSON "template"
  std::map<std::string, std::vector<std::string>> vocab;
  std::optional<std::int64_t> seed;
  std::vector<PromptPair> pairs;
  std::vector<std::string> answers;
  std::vector<std::string> wrong_answers;
  bool operator==(const Task&) const = default;
};

struct Metric {
  std::string name;  // "logit_diff", "logprob", "kl", "accuracy", ...
  bool normalized = false;
  bool operator==(const Metric&) const = default;
};

struct ClaimConditions {
  std::optional<std::string> model;
  std::optional<std::string> dtype;
  std::optional<std::string> device;
  std::optional<std::int64_t> seed;
  bool operator==(const ClaimConditions&) const = default;
};

struct Claim {
  std::string expression;  // as written in the .circuit file: "faithfulness(C)"
  std::string comparator;  // one of < <= > >= == !=
  double threshold = 0.0;
  std::optional<double> measured;
  std::optional<bool> passed;
  std::optional<ClaimConditions> conditions;
  std::optional<std::string> doc;
  std::optional<nlohmann::json> extensions;
  bool operator==(const Claim&) const = default;
};

struct Provenance {
  std::string tool;  // "circuitry", "circuit-tracer", ...
  std::optional<std::string> tool_version;
  std::optional<std::string> source_path;
  std::optional<std::string> source_sha256;
  std::optional<std::string> date;  // ISO-8601, e.g. 2026-11-25T13:40:00Z
  std::optional<std::string> command;
  bool operator==(const Provenance&) const = default;
};

struct CircuitDocument {
  int version = kCircuitVersion;
  std::optional<std::string> name;
  std::optional<std::string> doc;
  ModelIdentity model;
  std::vector<Node> nodes;
  std::vector<Edge> edges;
  std::optional<Task> task;
  std::optional<Metric> metric;
  std::vector<Claim> claims;
  std::optional<Provenance> provenance;
  std::optional<nlohmann::json> extensions;
  bool operator==(const CircuitDocument&) const = default;
};

// Spelling of kinds and inputs in JSON; the parse functions return nullopt for unknown text.
const char* node_kind_name(NodeKind kind);
std::optional<NodeKind> parse_node_kind(const std::string& text);
const char* edge_input_name(EdgeInput input);  // "" for None
std::optional<EdgeInput> parse_edge_input(const std::string& text);

// The id a node's fields spell ("a3.h1", "m2.f42@5", "logits.t464@7"); the id field must match.
std::string canonical_node_id(const Node& node);
// The inverse of canonical_node_id: the kind and fields an id spells, or nullopt when the text
// is not a node id (id, score, doc and extensions of the result are left empty).
std::optional<Node> parse_node_id(const std::string& text);
// "{source}->{target}" plus "<q>", "<k>" or "<v>".
std::string canonical_edge_id(const std::string& source, const std::string& target, EdgeInput input);

}  // namespace circuit::interchange
