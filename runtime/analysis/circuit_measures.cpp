// Each measure is a handful of ablated-graph forwards through AblatedMetric (graph_forward.h):
// one for the full model, one for the empty circuit, and one per circuit evaluated.
#include "runtime/analysis/circuit_measures.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "runtime/analysis/analysis_runs.h"
#include "runtime/analysis/edge_graph.h"
#include "runtime/analysis/graph_forward.h"

namespace circuit::rt {
namespace {

// One forward per edge of the circuit; as for ACDC, beyond this it is hours of work.
constexpr std::size_t kMinimalityMaxEdges = 4000;
constexpr double kCurvePercents[] = {0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100};

// m(full), m(empty) and the normalization between them.
struct Measure {
  const AnalysisContext& context;
  EdgeGraph graph;
  AblatedMetric metric;
  double full = 0.0;
  double empty = 0.0;
  std::string label;

  explicit Measure(const AnalysisContext& c)
      : context(c), graph(c.model.config()), metric(c, graph), label(std::string(plan::analysis_kind_name(c.analysis.kind))) {
    full = metric.full();
    empty = metric(std::vector<std::uint8_t>(graph.edge_count(), 1));
    if (full == empty || !std::isfinite(full - empty))
      throw std::invalid_argument(label + ": the metric is the same with every edge ablated (" + std::to_string(full) +
                                  "), so the measure is undefined; choose prompts or an ablation that change it");
  }
  // Flags with every edge outside `keep` ablated.
  std::vector<std::uint8_t> outside(const std::vector<std::uint8_t>& keep) const {
    std::vector<std::uint8_t> out(keep.size());
    for (std::size_t e = 0; e < keep.size(); ++e) out[e] = keep[e] ? 0 : 1;
    return out;
  }
  double normalized(double m) const { return (m - empty) / (full - empty); }
  std::vector<std::uint8_t> circuit() const { return graph.edge_set(context.analysis.edges, label); }

  AnalysisResult result(double value, double m_circuit) const {
    AnalysisResult r;
    r.name = context.analysis.name;
    r.kind = context.analysis.kind;
    r.value = value;
    r.values["m_full"] = full;
    r.values["m_empty"] = empty;
    r.values["m_circuit"] = m_circuit;
    r.values["forward_equivalents"] = metric.forwards();
    return r;
  }
};

}  // namespace

AnalysisResult faithfulness(const AnalysisContext& context) {
  Measure measure(context);
  const double m = measure.metric(measure.outside(measure.circuit()));
  AnalysisResult r = measure.result(measure.normalized(m), m);
  r.values["forward_equivalents"] = measure.metric.forwards();
  return r;
}

AnalysisResult completeness(const AnalysisContext& context) {
  Measure measure(context);
  const double m = measure.metric(measure.circuit());  // the circuit's edges ablated: full \ C
  AnalysisResult r = measure.result(1.0 - measure.normalized(m), m);
  r.values["forward_equivalents"] = measure.metric.forwards();
  return r;
}

AnalysisResult minimality(const AnalysisContext& context) {
  const std::string label = std::string(plan::analysis_kind_name(context.analysis.kind));
  if (context.analysis.edges.empty()) throw std::invalid_argument(label + ": the circuit has no edges");
  if (context.analysis.edges.size() > kMinimalityMaxEdges)
    throw std::invalid_argument(label + ": " + std::to_string(context.analysis.edges.size()) +
                                " edges; minimality runs one forward per edge and takes at most " +
                                std::to_string(kMinimalityMaxEdges));
  Measure measure(context);
  const std::vector<std::uint8_t> keep = measure.circuit();
  std::vector<std::uint8_t> ablated = measure.outside(keep);
  const double m_circuit = measure.metric(ablated);
  AnalysisResult r = measure.result(0.0, m_circuit);
  double lowest = std::numeric_limits<double>::infinity();
  const std::int64_t total = static_cast<std::int64_t>(std::count(keep.begin(), keep.end(), 1));
  std::int64_t done = 0;
  for (std::size_t e = 0; e < keep.size(); ++e) {
    if (!keep[e]) continue;
    step_done(context.options, done++, total, context.analysis.name + ": " + measure.graph.edges()[e].name);
    ablated[e] = 1;
    const double drop = (m_circuit - measure.metric(ablated)) / (measure.full - measure.empty);
    ablated[e] = 0;
    r.edges.names.push_back(measure.graph.edges()[e].name);
    r.edges.values.push_back(drop);
    lowest = std::min(lowest, drop);
  }
  r.value = lowest;
  r.values["forward_equivalents"] = measure.metric.forwards();
  return r;
}

AnalysisResult circuit_curve(const AnalysisContext& context) {
  const plan::Analysis& analysis = context.analysis;
  const std::string label = std::string(plan::analysis_kind_name(analysis.kind));
  if (analysis.edges.size() != analysis.edge_scores.size())
    throw std::invalid_argument(label + ": " + std::to_string(analysis.edges.size()) + " edges but " +
                                std::to_string(analysis.edge_scores.size()) + " edge scores");
  if (analysis.edges.empty()) throw std::invalid_argument(label + ": no edges to rank");
  Measure measure(context);
  measure.circuit();  // every name must be an edge of the graph: throws naming the first that is not
  std::vector<std::size_t> order(analysis.edges.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::abs(analysis.edge_scores[a]) > std::abs(analysis.edge_scores[b]);
  });

  const double n = static_cast<double>(analysis.edges.size());
  std::vector<float> curve, percents;
  std::vector<double> fractions, faith;
  std::int64_t done = 0;
  for (double k : kCurvePercents) {
    step_done(context.options, done++, std::size(kCurvePercents), analysis.name + ": top " + std::to_string(k) + "%");
    const auto top = static_cast<std::size_t>(std::ceil(k / 100.0 * n - 1e-9));
    const std::size_t count = std::min<std::size_t>(order.size(), top);
    std::vector<std::uint8_t> keep(measure.graph.edge_count(), 0);
    for (std::size_t i = 0; i < count; ++i) keep[measure.graph.edge_index(analysis.edges[order[i]])] = 1;
    const double f = measure.normalized(measure.metric(measure.outside(keep)));
    fractions.push_back(k / 100.0);
    faith.push_back(f);
    curve.push_back(static_cast<float>(f));
    percents.push_back(static_cast<float>(k));
  }
  double cpr = 0.0, cmd = 0.0;
  for (std::size_t i = 1; i < fractions.size(); ++i) {
    const double width = fractions[i] - fractions[i - 1];
    cpr += width * (faith[i] + faith[i - 1]) / 2.0;
    cmd += width * (std::abs(1.0 - faith[i]) + std::abs(1.0 - faith[i - 1])) / 2.0;
  }
  AnalysisResult r = measure.result(cpr, measure.full);
  r.values.erase("m_circuit");
  r.values["cpr"] = cpr;
  r.values["cmd"] = cmd;
  r.values["forward_equivalents"] = measure.metric.forwards();
  r.tensors["curve"] = plan::Tensor{{static_cast<std::int64_t>(curve.size())}, curve};
  r.tensors["percent"] = plan::Tensor{{static_cast<std::int64_t>(percents.size())}, percents};
  return r;
}

}  // namespace circuit::rt
