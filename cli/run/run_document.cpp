#include "run/run_document.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <optional>
#include <stdexcept>
#include <tuple>

#include "compiler/interchange/sha256.h"

namespace circuit::cli::run {
namespace {

namespace ix = circuit::interchange;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot read the file");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

std::string utc_now_iso() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

bool measures_a_circuit(plan::AnalysisKind kind) {
  using K = plan::AnalysisKind;
  return kind == K::Faithfulness || kind == K::Completeness || kind == K::Minimality || kind == K::CircuitCurve;
}

// "a0.h1->a1.h3<k>" -> sender "a0.h1", receiver "a1.h3", input K.
struct ParsedEdge {
  std::string source, target;
  ix::EdgeInput input = ix::EdgeInput::None;
};
std::optional<ParsedEdge> parse_edge(const std::string& id) {
  const auto arrow = id.find("->");
  if (arrow == std::string::npos) return std::nullopt;
  ParsedEdge e{id.substr(0, arrow), id.substr(arrow + 2)};
  if (e.target.size() > 3 && e.target.back() == '>' && e.target[e.target.size() - 3] == '<') {
    auto input = ix::parse_edge_input(std::string(1, e.target[e.target.size() - 2]));
    if (!input) return std::nullopt;
    e.input = *input;
    e.target.resize(e.target.size() - 3);
  }
  return e;
}

// Edges of every circuit the run measured (faithfulness & co.) or discovered (EAP, ACDC), with
// the experiments that hold each edge and the discovery's score where there is one. A CPR or
// CMD curve lists every edge its discovery scored (70,651 for EAP over SmolLM2) as candidates
// for its top-k circuits, not as a circuit: it only marks the circuit edges it ranked.
struct CircuitEdges {
  std::map<std::string, std::set<std::string>> from;  // edge id -> experiments
  std::map<std::string, double> score;
};
CircuitEdges collect_edges(const RunOutcome& outcome) {
  CircuitEdges edges;
  for (const auto& stage : outcome.stages)
    for (const auto& a : stage.plan.analyses)
      if (measures_a_circuit(a.kind) && a.kind != plan::AnalysisKind::CircuitCurve)
        for (const auto& e : a.edges) edges.from[e].insert(a.name);
  for (const auto& [name, circuit] : outcome.measured.circuits) {
    const auto scores = outcome.measured.edge_scores.find(name);
    for (const auto& e : circuit) {
      edges.from[e].insert(name);
      if (scores != outcome.measured.edge_scores.end())
        if (auto s = scores->second.find(e); s != scores->second.end()) edges.score[e] = s->second;
    }
  }
  for (const auto& stage : outcome.stages)
    for (const auto& a : stage.plan.analyses)
      if (a.kind == plan::AnalysisKind::CircuitCurve)
        for (const auto& e : a.edges)
          if (auto it = edges.from.find(e); it != edges.from.end()) it->second.insert(a.name);
  return edges;
}

// The task of the first circuit measure (else the first analysis): its prompts, or clean and
// corrupt pairs, with the metric's answers when there is one per prompt.
void add_task_and_metric(const RunOutcome& outcome, const RunContext& context, ix::CircuitDocument& doc) {
  const plan::Analysis* chosen = nullptr;
  const plan::HookPlan* in_plan = nullptr;
  for (const auto& stage : outcome.stages)
    for (const auto& a : stage.plan.analyses)
      if (!chosen || (measures_a_circuit(a.kind) && !measures_a_circuit(chosen->kind))) {
        chosen = &a;
        in_plan = &stage.plan;
      }
  if (!chosen) return;
  ix::Task task;
  task.name = chosen->batch;
  const auto* clean = plan::find_batch(*in_plan, chosen->batch);
  const auto* corrupt = chosen->corrupt_batch.empty() ? nullptr : plan::find_batch(*in_plan, chosen->corrupt_batch);
  if (clean && context.decode) {
    if (corrupt && corrupt->rows.size() == clean->rows.size()) {
      for (size_t r = 0; r < clean->rows.size(); ++r)
        task.pairs.push_back({context.decode(clean->rows[r]), context.decode(corrupt->rows[r])});
    } else {
      for (const auto& row : clean->rows) task.prompts.push_back(context.decode(row));
    }
    const size_t n = clean->rows.size();
    if (chosen->metric && chosen->metric->answers.size() == n) {
      for (int id : chosen->metric->answers) task.answers.push_back(context.decode({id}));
      if (chosen->metric->wrong_answers.size() == n)
        for (int id : chosen->metric->wrong_answers) task.wrong_answers.push_back(context.decode({id}));
    }
  }
  doc.task = std::move(task);
  if (chosen->metric)
    doc.metric = ix::Metric{plan::metric_kind_name(chosen->metric->kind), chosen->metric->normalize.has_value()};
}

}  // namespace

std::string weights_sha256(const formats::ModelSource& model) {
  if (model.weights.size() == 1) return ix::sha256_hex(read_bytes(model.weights.front()));
  std::string all;
  for (const auto& path : model.weights) all += read_bytes(path);
  return ix::sha256_hex(all);
}

ix::CircuitDocument build_run_document(const RunOutcome& outcome, const RunContext& context,
                                       const std::string& name, const std::string& weights_hash) {
  ix::CircuitDocument doc;
  doc.name = name;
  const auto& config = context.model.config;
  doc.model.family = formats::family_name(config.family);
  doc.model.name = context.model.name;
  doc.model.shape = {config.n_layers, config.n_heads, config.n_kv_heads, config.d_model,
                     config.d_head,   config.d_mlp,   config.d_vocab,    config.n_ctx};
  doc.model.weights_sha256 = weights_hash;

  // Nodes: every end of a circuit edge, scored by the measured scores that name it (the
  // largest in magnitude as `score`; each in extensions, so nothing is lost).
  const auto edges = collect_edges(outcome);
  std::map<std::string, ix::Node> nodes;
  auto add_node = [&](const std::string& id) {
    if (nodes.count(id)) return true;
    auto node = ix::parse_node_id(id);
    if (!node) return false;
    node->id = id;
    nlohmann::json scores = nlohmann::json::object();
    for (const auto& [let, by_node] : outcome.measured.scores)
      if (auto s = by_node.find(id); s != by_node.end()) {
        scores[let] = s->second;
        if (!node->score || std::fabs(s->second) > std::fabs(*node->score)) node->score = s->second;
      }
    if (!scores.empty()) node->extensions = nlohmann::json{{"circuitry", {{"scores", scores}}}};
    nodes.emplace(id, std::move(*node));
    return true;
  };
  for (const auto& [id, from] : edges.from) {
    auto parsed = parse_edge(id);
    if (!parsed || !add_node(parsed->source) || !add_node(parsed->target)) continue;
    ix::Edge edge;
    edge.id = ix::canonical_edge_id(parsed->source, parsed->target, parsed->input);
    edge.source = parsed->source;
    edge.target = parsed->target;
    edge.input = parsed->input;
    if (auto s = edges.score.find(id); s != edges.score.end()) edge.score = s->second;
    edge.extensions = nlohmann::json{{"circuitry", {{"from", std::vector<std::string>(from.begin(), from.end())}}}};
    doc.edges.push_back(std::move(edge));
  }
  // Node order: input, then by layer (attention before MLP), then logits.
  auto rank = [](const ix::Node& n) {
    const int kind = n.kind == ix::NodeKind::Input ? 0 : n.kind == ix::NodeKind::Logits ? 2 : 1;
    return std::tuple(kind, n.layer.value_or(0), n.kind == ix::NodeKind::Attention ? 0 : 1, n.head.value_or(0));
  };
  for (auto& [id, node] : nodes) doc.nodes.push_back(std::move(node));
  std::stable_sort(doc.nodes.begin(), doc.nodes.end(), [&](const ix::Node& a, const ix::Node& b) { return rank(a) < rank(b); });

  add_task_and_metric(outcome, context, doc);

  ix::ClaimConditions conditions;
  conditions.model = context.model.name;
  conditions.dtype = context.dtype;
  conditions.device = context.device;
  for (const auto& claim : outcome.claims) {
    ix::Claim c;
    c.expression = claim.expression;
    c.comparator = claim.comparator;
    c.threshold = claim.threshold;
    if (std::isfinite(claim.measured)) c.measured = claim.measured;
    c.passed = claim.passed;
    c.conditions = conditions;
    c.extensions = nlohmann::json{{"circuitry", {{"location", claim.location}}}};
    doc.claims.push_back(std::move(c));
  }
  for (const auto& w : outcome.unmeasured) {
    ix::Claim c;
    c.expression = w.expression;
    c.comparator = w.comparator;
    try {
      c.threshold = std::stod(w.bound);
    } catch (const std::exception&) {
      continue;  // a bound that is not a number cannot be written as a threshold
    }
    c.extensions = nlohmann::json{{"circuitry", {{"location", w.location}, {"measured", false}}}};
    doc.claims.push_back(std::move(c));
  }

  ix::Provenance provenance;
  provenance.tool = "circuitry";
  provenance.tool_version = CIRCUIT_VERSION;
  provenance.source_path = context.source_path;
  provenance.source_sha256 = ix::sha256_hex(read_bytes(context.source_path));
  provenance.date = utc_now_iso();
  provenance.command = context.command;
  doc.provenance = std::move(provenance);
  return doc;
}

}  // namespace circuit::cli::run
