#include "run/measurements.h"

#include <cmath>
#include <set>

namespace circuit::cli::run {
namespace {

bool discovers_circuit(plan::AnalysisKind kind) {
  return kind == plan::AnalysisKind::Eap || kind == plan::AnalysisKind::EapIg || kind == plan::AnalysisKind::Acdc;
}

void record_sweep(const rt::SweepResult& sweep, const std::string& key, compiler::MeasuredValues& measured) {
  auto& scores = measured.scores[key];
  for (const auto& item : sweep.items) {
    auto node = sweep_item_node(sweep.hook, item);
    if (!node) continue;
    auto [it, inserted] = scores.emplace(*node, item.value);
    if (!inserted && std::fabs(item.value) > std::fabs(it->second)) it->second = item.value;
  }
}

void record_analysis(const rt::AnalysisResult& a, const std::string& key, compiler::MeasuredValues& measured) {
  if (!a.nodes.names.empty()) {
    auto& scores = measured.scores[key];
    for (size_t i = 0; i < a.nodes.names.size() && i < a.nodes.values.size(); ++i)
      scores[a.nodes.names[i]] = a.nodes.values[i];
  }
  if (discovers_circuit(a.kind)) {
    measured.circuits[key] = a.circuit;
    auto& edges = measured.edge_scores[key];
    for (size_t i = 0; i < a.edges.names.size() && i < a.edges.values.size(); ++i)
      edges[a.edges.names[i]] = a.edges.values[i];
  }
  if (a.value) measured.values[key] = *a.value;
}

}  // namespace

std::optional<std::string> sweep_item_node(const std::string& hook, const rt::SweepItemResult& item) {
  if (!item.layer) return std::nullopt;
  const std::string layer = std::to_string(*item.layer);
  if (item.head) return "a" + layer + ".h" + std::to_string(*item.head);
  if (hook.find("mlp") != std::string::npos) return "m" + layer;
  if (hook.find("attn_out") != std::string::npos) return "attn" + layer;
  return "resid" + layer;
}

void record_measurements(const plan::HookPlan& plan, const rt::PlanResults& results,
                         compiler::MeasuredValues& measured) {
  std::set<std::string> listed_sweeps, listed_analyses;
  for (const auto& e : plan.experiments) {
    measured.done.insert(e.name);
    for (const auto& name : e.sweeps) {
      listed_sweeps.insert(name);
      if (const auto* s = results.sweep(name)) record_sweep(*s, e.name, measured);
    }
    for (const auto& name : e.analyses) {
      listed_analyses.insert(name);
      if (const auto* a = results.analysis(name)) record_analysis(*a, e.name, measured);
    }
    if (measured.values.count(e.name)) continue;
    for (const auto& name : e.passes) {
      const auto* p = results.pass(name);
      if (p && !p->metrics.empty()) {
        measured.values[e.name] = p->metrics.front().mean;
        break;
      }
    }
  }
  for (const auto& s : results.sweeps)
    if (!listed_sweeps.count(s.name)) record_sweep(s, s.name, measured);
  for (const auto& a : results.analyses)
    if (!listed_analyses.count(a.name)) record_analysis(a, a.name, measured);
  for (const auto& claim : plan.claims) measured.done.insert(claim.name);
}

}  // namespace circuit::cli::run
