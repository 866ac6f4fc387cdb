// ACDC as Conmy et al. (2023) run it: start from the full graph; visit receivers from the
// logits backwards (reverse forward order, so every edge out of a node is decided before the
// edges into it); tentatively ablate each incoming edge (senders latest first) and keep it
// ablated when the metric moves by less than the threshold, measured from the current
// (already pruned) graph. The metric is KL(full model || pruned graph) when the analysis names
// kl or no metric (the move is KL_new - KL_current, which may be negative), else the task
// metric's |change|. A node left with no outgoing edge cannot affect the output, so the edges
// into it are removed without a forward (their recorded change is 0).
#include "runtime/analysis/acdc.h"

#include <ATen/ATen.h>

#include <cmath>
#include <stdexcept>

#include "runtime/analysis/analysis_runs.h"
#include "runtime/analysis/edge_graph.h"
#include "runtime/analysis/graph_forward.h"

namespace circuit::rt {
namespace {

// One forward per edge: beyond this the search takes hours; EAP/EAP-IG are the tools then.
constexpr std::size_t kAcdcMaxEdges = 4000;

// Whether the node of receiver r still has an outgoing edge in the circuit. A key/value
// receiver under GQA serves every query head of its KV group.
bool node_alive(const EdgeGraph& graph, int r, const std::vector<std::uint8_t>& ablated) {
  const GraphReceiver& receiver = graph.receivers()[r];
  auto sender_alive = [&](int s) {
    for (std::size_t e : graph.outgoing(s))
      if (!ablated[e]) return true;
    return false;
  };
  switch (receiver.kind) {
    case ReceiverKind::Logits: return true;
    case ReceiverKind::Mlp: return sender_alive(graph.mlp_sender(receiver.layer));
    case ReceiverKind::Query: return sender_alive(graph.first_head_sender(receiver.layer) + receiver.head);
    case ReceiverKind::Key:
    case ReceiverKind::Value: {
      const int group = graph.config().n_heads / graph.kv_heads();
      for (int h = receiver.head * group; h < (receiver.head + 1) * group; ++h)
        if (sender_alive(graph.first_head_sender(receiver.layer) + h)) return true;
      return false;
    }
  }
  return true;
}

}  // namespace

AnalysisResult acdc(const AnalysisContext& context) {
  const plan::Analysis& analysis = context.analysis;
  const std::string label = std::string(plan::analysis_kind_name(analysis.kind));
  EdgeGraph graph(context.model.config());
  const std::size_t E = graph.edge_count();
  const std::string& model_name = context.model.config().name;
  if (E > kAcdcMaxEdges)
    throw std::invalid_argument(label + ": the graph of " + (model_name.empty() ? std::string("the model") : model_name) +
                                " has " + std::to_string(E) +
                                " edges; ACDC runs one forward per edge and takes at most " +
                                std::to_string(kAcdcMaxEdges) + " (use eap or eap_ig)");
  if (!(analysis.threshold >= 0.0)) throw std::invalid_argument(label + ": threshold must be >= 0");

  AblatedMetric metric(context, graph);
  std::vector<std::uint8_t> ablated(E, 0);
  std::vector<double> change(E, 0.0);
  double current = metric.full();
  std::int64_t tested = 0;

  for (int r = static_cast<int>(graph.receivers().size()) - 1; r >= 0; --r) {
    const auto [first, count] = graph.incoming(r);
    if (!node_alive(graph, r, ablated)) {
      for (std::size_t e = first; e < first + count; ++e) ablated[e] = 1;
      continue;
    }
    for (std::size_t i = count; i-- > 0;) {
      const std::size_t e = first + i;
      step_done(context.options, tested, static_cast<std::int64_t>(E), analysis.name + ": " + graph.edges()[e].name);
      ablated[e] = 1;
      const double value = metric(ablated);
      ++tested;
      const double move = metric.is_kl() ? value - current : std::abs(value - current);
      change[e] = std::abs(value - current);
      if (move < analysis.threshold) current = value;
      else ablated[e] = 0;
    }
  }

  AnalysisResult result;
  result.name = analysis.name;
  result.kind = analysis.kind;
  result.edges.names = graph.edge_names();
  result.edges.values = change;
  std::vector<float> kept(E);
  for (std::size_t e = 0; e < E; ++e) {
    kept[e] = ablated[e] ? 0.0f : 1.0f;
    if (!ablated[e]) result.circuit.push_back(graph.edges()[e].name);
  }
  result.tensors["kept"] = plan::Tensor{{static_cast<std::int64_t>(E)}, kept};
  result.values["threshold"] = analysis.threshold;
  result.values["metric_full"] = metric.full();
  result.values["metric_circuit"] = current;
  result.values["edges_tested"] = static_cast<double>(tested);
  result.values["edges_kept"] = static_cast<double>(result.circuit.size());
  result.values["forward_equivalents"] = metric.forwards();
  return result;
}

}  // namespace circuit::rt
