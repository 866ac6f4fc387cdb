// PlanResults: what executing a hook plan measured, as plain data (no libtorch): each pass's
// metrics per row, its saved activations and gradients, each sweep's value per item, each
// analysis's scores, and each claim's verdict. Part of the runtime's execute stage; the results
// layer (cli/run) turns it into a summary, an interchange document and a safetensors file.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "compiler/plan/hook_plan.h"

namespace circuit::rt {

struct MetricResult {
  std::string name;
  plan::MetricKind kind = plan::MetricKind::LogitDiff;
  std::vector<double> per_row;  // one value per pass row (normalized when the metric says so)
  double mean = 0.0;
};

struct PassResult {
  std::string name;
  std::vector<MetricResult> metrics;
  std::map<std::string, plan::Tensor> saves;      // hook name -> activation (output saves only)
  std::map<std::string, plan::Tensor> gradients;  // hook name -> d metric / d activation
};

// One sweep item: the metric mean over its rows (normalized when the metric says so).
struct SweepItemResult {
  int item = 0;
  std::optional<int> layer, head, position;
  double value = 0.0;
};

struct SweepResult {
  std::string name;
  std::string hook;  // the swept hook pattern ("blocks.{layer}.attn.hook_z")
  std::string metric;
  std::vector<SweepItemResult> items;
};

// A score per node ("a1.h3", "m0", "input") or per edge ("a0.h1->a1.h3<k>"), in a fixed order.
struct NamedScores {
  std::vector<std::string> names;
  std::vector<double> values;
};

struct AnalysisResult {
  std::string name;
  plan::AnalysisKind kind = plan::AnalysisKind::Dla;
  NamedScores nodes;   // detectors, DLA, path/attribution patching: per node
  NamedScores edges;   // EAP, EAP-IG, ACDC: per edge of the full graph
  std::vector<std::string> circuit;  // EAP (top), ACDC (kept): the discovered circuit's edges
  std::optional<double> value;       // circuit measures: faithfulness, completeness, ...
  std::map<std::string, double> values;         // extra named numbers (CPR, CMD, baselines)
  std::map<std::string, plan::Tensor> tensors;  // e.g. "scores" [n_layers, n_heads], "lens"
};

struct ClaimResult {
  std::string name;
  std::string expression;
  std::string comparator;
  double threshold = 0.0;
  double measured = 0.0;
  bool passed = false;
  std::string location;
};

struct PlanResults {
  std::vector<PassResult> passes;
  std::vector<SweepResult> sweeps;
  std::vector<AnalysisResult> analyses;
  std::vector<ClaimResult> claims;
  int forwards = 0;   // forward passes run (chunks count separately)
  int backwards = 0;
  int resumed_forwards = 0;  // of `forwards`, those resumed from a clean run's cache

  const PassResult* pass(std::string_view name) const;
  const SweepResult* sweep(std::string_view name) const;
  const AnalysisResult* analysis(std::string_view name) const;
};

}  // namespace circuit::rt
