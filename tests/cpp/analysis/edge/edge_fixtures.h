// Helpers of the edge-analysis tests: a case that owns what an AnalysisContext refers to,
// random clean/corrupt prompt pairs for the tiny models, the induction-2l task, and the true
// effect of ablating single edges (to check EAP's estimates against).
#pragma once

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "compiler/plan/hook_plan.h"
#include "runtime/analysis/analysis_context.h"
#include "runtime/analysis/edge_graph.h"
#include "runtime/analysis/graph_forward.h"
#include "runtime/exec/plan_executor.h"
#include "runtime/formats/model_source.h"
#include "runtime/model/hooked_model.h"

namespace circuit::rt::testing {

struct EdgeCase {
  plan::Analysis analysis;
  plan::TokenBatch clean;
  plan::TokenBatch corrupt;
  bool has_corrupt = true;
  ExecutionOptions options;

  AnalysisContext context(const HookedModel& model) const {
    return AnalysisContext{model, analysis, clean, has_corrupt ? &corrupt : nullptr, options};
  }
};

// "gpt2", "llama", "gpt_neox", "attn_only": a family as a test name.
inline std::string family_test_name(const ::testing::TestParamInfo<formats::Family>& info) {
  std::string name = formats::family_name(info.param);
  for (char& ch : name)
    if (ch == '-') ch = '_';
  return name;
}

inline plan::TokenBatch edge_batch(std::string name, std::vector<std::vector<std::int32_t>> rows) {
  plan::TokenBatch b;
  b.name = std::move(name);
  b.rows = std::move(rows);
  b.pad_side = plan::PadSide::Left;
  return b;
}

// `rows` random prompts of `length` ids in [0, vocab); the corrupt prompt of each changes the
// tokens at `changed` positions (counted from the end when negative). The metric is the logit
// difference between two random answers at the last position.
inline EdgeCase random_case(plan::AnalysisKind kind, int rows, int length, int vocab, std::uint32_t seed,
                            std::vector<int> changed = {-1, -3}) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> id(0, vocab - 1);
  EdgeCase c;
  std::vector<std::vector<std::int32_t>> clean, corrupt;
  plan::Metric metric;
  metric.name = "logit_diff";
  metric.kind = plan::MetricKind::LogitDiff;
  for (int r = 0; r < rows; ++r) {
    std::vector<std::int32_t> row(length);
    for (auto& t : row) t = id(rng);
    auto bad = row;
    for (int p : changed) {
      const int at = p < 0 ? length + p : p;
      bad[at] = (bad[at] + 1 + id(rng) % (vocab - 1)) % vocab;
    }
    clean.push_back(row);
    corrupt.push_back(bad);
    metric.answers.push_back(id(rng));
    metric.wrong_answers.push_back((metric.answers.back() + 1 + id(rng) % (vocab - 1)) % vocab);
  }
  c.clean = edge_batch("clean", clean);
  c.corrupt = edge_batch("corrupt", corrupt);
  c.analysis.name = "edges";
  c.analysis.kind = kind;
  c.analysis.batch = "clean";
  c.analysis.corrupt_batch = "corrupt";
  c.analysis.metric = metric;
  return c;
}

inline HookedModel induction_model() {
  return HookedModel::load(formats::resolve_model("induction-2l", std::string(CIRCUIT_SOURCE_DIR) + "/models"));
}

// Induction on induction-2l: clean = [BOS] s s, corrupt = [BOS] t s (t a fresh random
// sequence in place of the first copy); the metric is the log-probability, read at the
// second-to-last token, of the last token of s (which only the first copy tells).
inline EdgeCase induction_case(plan::AnalysisKind kind, int rows, int half, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> id(32, 126);
  EdgeCase c;
  std::vector<std::vector<std::int32_t>> clean, corrupt;
  plan::Metric metric;
  metric.name = "logprob";
  metric.kind = plan::MetricKind::Logprob;
  metric.position.index = {-2};  // predicts the last token of the second copy
  for (int r = 0; r < rows; ++r) {
    std::vector<std::int32_t> s(half), t(half);
    for (auto& x : s) x = id(rng);
    for (auto& x : t) x = id(rng);
    std::vector<std::int32_t> good{0}, bad{0};
    good.insert(good.end(), s.begin(), s.end());
    good.insert(good.end(), s.begin(), s.end());
    bad.insert(bad.end(), t.begin(), t.end());
    bad.insert(bad.end(), s.begin(), s.end());
    clean.push_back(good);
    corrupt.push_back(bad);
    metric.answers.push_back(s.back());
  }
  c.clean = edge_batch("clean", clean);
  c.corrupt = edge_batch("corrupt", corrupt);
  c.analysis.name = "induction";
  c.analysis.kind = kind;
  c.analysis.batch = "clean";
  c.analysis.corrupt_batch = "corrupt";
  c.analysis.metric = metric;
  return c;
}

// The metric change from ablating each edge alone (what EAP estimates), in graph order.
inline std::vector<double> single_edge_effects(const AnalysisContext& context, const EdgeGraph& graph) {
  AblatedMetric metric(context, graph);
  std::vector<double> out;
  std::vector<std::uint8_t> ablated(graph.edge_count(), 0);
  for (std::size_t e = 0; e < graph.edge_count(); ++e) {
    ablated[e] = 1;
    out.push_back(metric(ablated) - metric.full());
    ablated[e] = 0;
  }
  return out;
}

inline double correlation(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size());
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) ma += a[i] / n, mb += b[i] / n;
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return sab / std::sqrt(saa * sbb);
}

}  // namespace circuit::rt::testing
