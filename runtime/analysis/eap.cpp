// EAP scores edge s -> r as (ablated_s - clean_s) . d metric / d input_r, summed over positions
// and averaged over rows: a first-order estimate of how the metric changes when that one edge
// is ablated (edge_graph.h / graph_forward.h define both). EAP-IG (Hanna et al. 2024) averages
// the gradient over `steps` runs whose hook_embed is interpolated from the ablated input to the
// clean one, alpha = k / steps for k = 0 .. steps-1 (as their reference code does).
//
// Cost in forward equivalents (a forward 1, a backward 2): EAP = 1 (corrupt run, Patch only)
// + 3 (clean forward and backward) <= 4; EAP-IG = 1 (corrupt, Patch only) + 1 (clean) + 3 steps.
// Batches whose per-row tensors exceed the options' memory budget run in chunks of rows (the
// same cost; Mean ablation then takes one more forward for the mean over every row).
#include "runtime/analysis/eap.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "runtime/analysis/analysis_runs.h"
#include "runtime/analysis/edge_graph.h"
#include "runtime/analysis/graph_forward.h"
#include "runtime/exec/metric.h"
#include "runtime/exec/plan_tensors.h"
#include "runtime/model/model_weights.h"

namespace circuit::rt {
namespace {

constexpr int kDefaultIgSteps = 5;

// The top `top` edges by |score| (ties: graph order).
std::vector<std::string> top_edges(const NamedScores& scores, int top) {
  std::vector<std::size_t> order(scores.values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::abs(scores.values[a]) > std::abs(scores.values[b]);
  });
  std::vector<std::string> out;
  for (std::size_t i = 0; i < order.size() && static_cast<int>(i) < top; ++i) out.push_back(scores.names[order[i]]);
  return out;
}

// One chunk of rows: the sum over its rows of every (sender, receiver) score, and its metrics.
struct ChunkScores {
  at::Tensor score_sum;  // [senders, receivers] double on the CPU
  double clean_metric_sum = 0.0;
  double corrupt_metric_sum = 0.0;
  bool has_corrupt_metric = false;
  int forward_equivalents = 0;
};

// The metric of a subset of rows, its answers and per-row positions re-indexed to them.
plan::Metric chunk_metric(const plan::Metric& metric, const std::vector<std::int64_t>& rows) {
  plan::Metric out = metric;
  auto pick = [&](auto& list) {
    if (list.empty()) return;
    auto source = list;
    list.clear();
    for (std::int64_t r : rows) {
      if (r >= static_cast<std::int64_t>(source.size()))
        throw std::invalid_argument("metric '" + metric.name + "': nothing given for batch row " + std::to_string(r));
      list.push_back(source[r]);
    }
  };
  pick(out.answers);
  pick(out.wrong_answers);
  pick(out.position.per_row);
  return out;
}

// EAP / EAP-IG over one padded batch. `mean` (Mean ablation over every row) or null: then
// Patch takes `corrupt`, Zero zeros, and Mean the batch's own clean run.
ChunkScores eap_scores(const AnalysisContext& context, const EdgeGraph& graph, const TokenBatch& clean,
                       const TokenBatch* corrupt, const plan::Metric& metric, int steps, const AblationBaseline* mean) {
  const plan::Analysis& analysis = context.analysis;
  const HookedModel& model = context.model;
  const bool integrated = analysis.kind == plan::AnalysisKind::EapIg;
  const LogitsAt logits_at = logits_for_metric(clean, metric);
  ChunkScores out;

  // The ablated values first (Patch: the corrupt run), then the clean run.
  AblationBaseline baseline;
  if (mean) {
    baseline = *mean;
  } else if (analysis.ablation != plan::Ablation::Mean) {
    baseline = ablation_baseline(model, graph, clean, corrupt, analysis.ablation, logits_at);
    out.forward_equivalents += baseline.forwards;
  }

  // Clean sender outputs and the gradient sum. EAP: one clean forward + backward does both.
  at::Tensor clean_outputs, clean_logits, gradient_sum;
  auto gradient_run = [&](const at::Tensor& embed, bool record) {
    GraphForwardRequest request;
    request.receiver_gradients = true;
    request.record_senders = record;
    request.embed = embed;
    request.logits_at = logits_at;
    GraphRun run = graph_forward(model, graph, clean, request);
    const at::Tensor reference = clean_logits.defined() ? clean_logits : run.logits.detach();
    at::Tensor per_row = metric_per_row(run.logits, clean, metric, {}, reference);
    if (record) out.clean_metric_sum = per_row.sum().item<double>();
    per_row.sum().backward();
    at::Tensor g = run.receiver_gradients().to(at::kFloat);
    gradient_sum = gradient_sum.defined() ? gradient_sum + g : g;
    out.forward_equivalents += 3;
    return run;
  };

  if (!integrated) {
    GraphRun run = gradient_run(at::Tensor(), true);
    clean_outputs = run.sender_outputs;
    clean_logits = run.logits.detach();
    if (!baseline.outputs.defined()) baseline = mean_baseline(run, clean);
  } else {
    GraphForwardRequest request;
    request.record_senders = true;
    request.logits_at = logits_at;
    GraphRun run = graph_forward(model, graph, clean, request);
    out.forward_equivalents += 1;
    clean_outputs = run.sender_outputs;
    clean_logits = run.logits;
    out.clean_metric_sum = metric_per_row(clean_logits, clean, metric, {}, clean_logits).sum().item<double>();
    if (!baseline.outputs.defined()) baseline = mean_baseline(run, clean);
    const at::Tensor clean_embed = run.embed;
    const at::Tensor start = baseline.embed.expand_as(clean_embed);
    for (int k = 0; k < steps; ++k) {
      step_done(context.options, k, steps, analysis.name + ": integrated-gradient step " + std::to_string(k + 1));
      const double alpha = static_cast<double>(k) / steps;
      gradient_run(start + (clean_embed - start) * alpha, false);
    }
  }
  if (baseline.logits.defined()) {
    out.has_corrupt_metric = true;
    out.corrupt_metric_sum = metric_per_row(baseline.logits, clean, metric, {}, clean_logits).sum().item<double>();
  }
  // scores[s, r] = sum over rows and positions of (ablated_s - clean_s) . gradient_r.
  const at::Tensor difference = (baseline.outputs.expand_as(clean_outputs) - clean_outputs).to(at::kFloat);
  const at::Tensor gradients = gradient_sum / static_cast<double>(steps);
  out.score_sum = at::einsum("bpsd,bprd->sr", {difference, gradients}).to(at::kCPU, at::kDouble);
  return out;
}

// Rows per chunk so that the per-row tensors (sender differences, receiver gradients and
// their leaves, the forward's activations) stay within the options' memory budget.
std::int64_t rows_per_chunk(const AnalysisContext& context, const EdgeGraph& graph, const TokenBatch& clean) {
  const std::int64_t budget = context.options.memory_budget_bytes;
  if (budget <= 0) return clean.batch();
  const auto& c = context.model.config();
  const std::int64_t S = static_cast<std::int64_t>(graph.senders().size());
  const std::int64_t R = static_cast<std::int64_t>(graph.receivers().size());
  const std::int64_t seq = clean.seq();
  const std::int64_t per_position = (2 * S + 3 * R) * c.d_model +
                                    c.n_layers * (12 * c.d_model + 3 * c.d_mlp + 2 * c.n_heads * seq);
  const std::int64_t per_row = 4 * seq * per_position;
  return std::max<std::int64_t>(1, std::min<std::int64_t>(clean.batch(), budget / std::max<std::int64_t>(per_row, 1)));
}

}  // namespace

AnalysisResult edge_attribution_patching(const AnalysisContext& context) {
  const plan::Analysis& analysis = context.analysis;
  const HookedModel& model = context.model;
  const std::string label = std::string(plan::analysis_kind_name(analysis.kind));
  if (!analysis.metric)
    throw std::invalid_argument(label + ": needs a metric to take the gradient of (logit_diff, logprob, ...)");
  if (analysis.top < 0) throw std::invalid_argument(label + ": top must be >= 0");
  if (analysis.steps < 0) throw std::invalid_argument(label + ": steps must be >= 1");
  const bool integrated = analysis.kind == plan::AnalysisKind::EapIg;
  const int steps = integrated ? (analysis.steps > 0 ? analysis.steps : kDefaultIgSteps) : 1;

  EdgeGraph graph(model.config());
  const TokenBatch clean = clean_prompts(context);
  const std::unique_ptr<TokenBatch> corrupt = corrupt_prompts_if_any(context);
  plan::Metric metric = *analysis.metric;
  metric.normalize.reset();
  const std::int64_t rows = clean.batch();
  const std::int64_t chunk = rows_per_chunk(context, graph, clean);

  ChunkScores total;
  double forward_equivalents = 0.0;
  try {
    if (chunk >= rows) {
      total = eap_scores(context, graph, clean, corrupt.get(), metric, steps, nullptr);
      forward_equivalents = total.forward_equivalents;
    } else {
      // Too many rows for one pass: chunks of rows, each a complete EAP; Mean ablation takes
      // its mean over every row first (one more forward).
      std::unique_ptr<AblationBaseline> mean;
      if (analysis.ablation == plan::Ablation::Mean) {
        mean = std::make_unique<AblationBaseline>(
            ablation_baseline(model, graph, clean, nullptr, plan::Ablation::Mean, LogitsAt::Last));
        forward_equivalents += mean->forwards;
      }
      for (std::int64_t first = 0; first < rows; first += chunk) {
        step_done(context.options, first, rows, analysis.name + ": rows " + std::to_string(first));
        std::vector<std::int64_t> picked;
        for (std::int64_t r = first; r < std::min(rows, first + chunk); ++r) picked.push_back(r);
        const TokenBatch clean_part = to_token_batch(context.clean, model.config(), picked);
        std::unique_ptr<TokenBatch> corrupt_part;
        if (corrupt) corrupt_part = std::make_unique<TokenBatch>(to_token_batch(*context.corrupt, model.config(), picked));
        ChunkScores part =
            eap_scores(context, graph, clean_part, corrupt_part.get(), chunk_metric(metric, picked), steps, mean.get());
        forward_equivalents += part.forward_equivalents * static_cast<double>(picked.size()) / rows;
        total.score_sum = total.score_sum.defined() ? total.score_sum + part.score_sum : part.score_sum;
        total.clean_metric_sum += part.clean_metric_sum;
        total.corrupt_metric_sum += part.corrupt_metric_sum;
        total.has_corrupt_metric = part.has_corrupt_metric;
      }
    }
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    if (what.rfind("metric '", 0) == 0) throw;
    throw std::invalid_argument(label + ": " + what);
  }
  step_done(context.options, rows, rows, analysis.name + ": scores");
  const at::Tensor scores = (total.score_sum / static_cast<double>(rows)).contiguous();
  const double* s = scores.data_ptr<double>();
  const std::int64_t n_receivers = scores.size(1);

  AnalysisResult result;
  result.name = analysis.name;
  result.kind = analysis.kind;
  result.edges.names.reserve(graph.edge_count());
  result.edges.values.reserve(graph.edge_count());
  std::vector<float> flat;
  for (const GraphEdge& e : graph.edges()) {
    result.edges.names.push_back(e.name);
    result.edges.values.push_back(s[e.sender * n_receivers + e.receiver]);
    flat.push_back(static_cast<float>(result.edges.values.back()));
  }
  if (analysis.top > 0) result.circuit = top_edges(result.edges, analysis.top);
  result.tensors["scores"] = plan::Tensor{{static_cast<std::int64_t>(flat.size())}, flat};
  result.values["forward_equivalents"] = forward_equivalents;
  result.values["metric_clean"] = total.clean_metric_sum / static_cast<double>(rows);
  if (total.has_corrupt_metric) result.values["metric_corrupt"] = total.corrupt_metric_sum / static_cast<double>(rows);
  if (chunk < rows) result.values["row_chunks"] = static_cast<double>((rows + chunk - 1) / chunk);
  if (integrated) result.values["steps"] = steps;
  return result;
}

}  // namespace circuit::rt
