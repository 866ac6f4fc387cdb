// EAP scores edge s -> r as (ablated_s - clean_s) . d metric / d input_r, summed over positions
// and averaged over rows: a first-order estimate of how the metric changes when that one edge
// is ablated (edge_graph.h / graph_forward.h define both). EAP-IG (Hanna et al. 2024) averages
// the gradient over `steps` runs whose hook_embed is interpolated from the ablated input to the
// clean one, alpha = k / steps for k = 0 .. steps-1 (as their reference code does). Every
// gradient comes from receiver_gradients.h: the model's plain forward and one backward, each
// head's input gradient worked out from its q/k/v gradient; the scores are one matmul per
// receiver layer over the senders before it.
//
// Cost in forward equivalents (a forward 1, a backward 2, over the columns it computes):
// Patch ablation only touches columns from the first where a corrupt prompt differs (f = the
// fraction of columns from there on): EAP = (1 - f) (the common prefix, once, cached)
// + f (corrupt) + 3 f (clean forward and backward) = 1 + 3 f <= 4; EAP-IG = 1 + f + 3 f steps.
// Mean / Zero: EAP = 3, EAP-IG = 1 + 3 steps. The score matmuls add 2 d_model flops per edge
// and computed token (SmolLM2-135M's 70,651 edges: about 0.4 of a forward over the same tokens).
// Measured on SmolLM2-135M, 32 IOI prompts of 14 tokens that differ from column 9 (f = 5/14,
// 2.07 counted), 2 threads, on a shared loaded machine: 2.5-2.7x faster than the per-head-leaf
// version that measured 12.9 forward-equivalents of wall time on a quiet one (so about 5 now),
// peak RSS 1.5 GB instead of 5.1 GB.
// Batches whose per-row tensors exceed the options' memory budget run in chunks of rows (the
// same cost; Mean ablation then takes one more forward for the mean over every row).
#include "runtime/analysis/eap.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <tuple>
#include <stdexcept>

#include "runtime/analysis/analysis_runs.h"
#include "runtime/analysis/edge_graph.h"
#include "runtime/analysis/graph_forward.h"
#include "runtime/analysis/receiver_gradients.h"
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
  double forward_equivalents = 0.0;
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

// The first padded column at which some row's corrupt prompt differs from its clean one
// (seq when none does). Both are row-aligned with equal lengths, so their padding agrees.
std::int64_t first_difference(const TokenBatch& clean, const TokenBatch& corrupt) {
  const at::Tensor differs = (clean.tokens != corrupt.tokens.to(clean.tokens.device())).any(0).to(at::kCPU);
  const at::Tensor where = differs.nonzero();
  return where.numel() == 0 ? clean.seq() : where.min().item<std::int64_t>();
}

// Mean ablation's values from a full clean run: each sender's output (and hook_embed's value)
// averaged over rows and real positions, [n_senders, 1, 1, d_model] (and [1, 1, d_model]).
std::pair<at::Tensor, at::Tensor> clean_means(const ReceiverGradientRun& run, const TokenBatch& clean) {
  const at::Tensor& outputs = run.sender_outputs;
  const at::Tensor real = clean.padded() ? clean.attention_mask.to(outputs.device()).to(at::kFloat)
                                         : at::ones({clean.batch(), clean.seq()}, outputs.options().dtype(at::kFloat));
  const at::Tensor count = real.sum();
  const at::Tensor senders =
      ((outputs.to(at::kFloat) * real.view({1, real.size(0), real.size(1), 1})).sum(at::IntArrayRef{1, 2}, true) / count);
  const at::Tensor embed = ((run.embed.to(at::kFloat) * real.unsqueeze(2)).sum(at::IntArrayRef{0, 1}, true) / count);
  return {senders.to(outputs.scalar_type()), embed.to(run.embed.scalar_type())};
}

// score_sum[s, r] += sum over rows and computed positions of difference_s . gradient_r, for
// every edge s -> r, one receiver layer at a time (never every receiver's gradient at once).
// `difference` is [n_senders, rows * columns * d_model]; only a receiver's earlier senders
// (the first `incoming` ones, senders being in forward order) are multiplied.
void add_scores(at::Tensor& score_sum, const at::Tensor& difference, const ReceiverGradientRun& run,
                const EdgeGraph& graph) {
  const auto& c = graph.config();
  const std::int64_t N = difference.size(1);
  const std::int64_t heads = c.n_heads + 2 * graph.kv_heads();
  for (int l = 0; l <= c.n_layers; ++l) {
    const at::Tensor g = run.receiver_gradients(l).reshape({-1, N});
    if (l == c.n_layers) {
      const int r = graph.logits_receiver();
      const auto senders = static_cast<std::int64_t>(graph.incoming(r).second);
      score_sum.narrow(0, 0, senders).select(1, r).add_(at::mv(difference.narrow(0, 0, senders), g[0]));
      continue;
    }
    const int r = graph.first_receiver(l);
    const auto senders = static_cast<std::int64_t>(graph.incoming(r).second);
    score_sum.narrow(0, 0, senders)
        .narrow(1, r, heads)
        .add_(at::mm(difference.narrow(0, 0, senders), g.narrow(0, 0, heads).t()));
    if (graph.has_mlp()) {
      const int m = graph.mlp_receiver(l);
      const auto mlp_senders = static_cast<std::int64_t>(graph.incoming(m).second);
      score_sum.narrow(0, 0, mlp_senders)
          .select(1, m)
          .add_(at::mv(difference.narrow(0, 0, mlp_senders), g[heads]));
    }
  }
}

// EAP / EAP-IG over one padded batch. `mean` (Mean ablation over every row) or null: then
// Patch takes `corrupt`, Zero zeros, and Mean the batch's own clean run.
ChunkScores eap_scores(const AnalysisContext& context, const EdgeGraph& graph, const TokenBatch& clean,
                       const TokenBatch* corrupt, const plan::Metric& metric, int steps, const AblationBaseline* mean) {
  const plan::Analysis& analysis = context.analysis;
  const HookedModel& model = context.model;
  const auto& c = model.config();
  const bool integrated = analysis.kind == plan::AnalysisKind::EapIg;
  const plan::Ablation ablation = mean ? plan::Ablation::Mean : analysis.ablation;
  const LogitsAt logits_at = logits_for_metric(clean, metric);
  const std::int64_t seq = clean.seq();
  ChunkScores out;

  // Patch: every column before the first where a corrupt prompt differs holds the same values
  // in the clean and the corrupt run (a causal model), so every sender difference there is
  // zero. One forward over those columns caches them; every run then resumes there.
  std::int64_t first = 0;
  std::unique_ptr<PrefixCache> cache;
  if (ablation == plan::Ablation::Patch) {
    if (!corrupt) throw std::invalid_argument("patch ablation needs corrupt prompts");
    if (corrupt->batch() != clean.batch() || corrupt->seq() != clean.seq() || corrupt->lengths != clean.lengths)
      throw std::invalid_argument("patch ablation needs corrupt prompts row-aligned with the clean ones (same count, same lengths)");
    first = first_difference(clean, *corrupt);
    for (std::int64_t column : metric_columns(clean, metric)) first = std::min(first, column);
    first = std::min(first, seq - 1);
    if (first > 0) {
      cache = std::make_unique<PrefixCache>(model.forward_prefix(clean, first));
      out.forward_equivalents += static_cast<double>(first) / static_cast<double>(seq);
    }
  }
  const double fraction = static_cast<double>(seq - first) / static_cast<double>(seq);
  auto request = [&](bool gradients, const at::Tensor& embed) {
    ReceiverGradientRequest r;
    r.prefix = cache.get();
    r.first_column = first;
    r.gradients = gradients;
    r.embed = embed;
    r.logits_at = logits_at;
    return r;
  };
  auto metric_of = [&](const at::Tensor& logits, const at::Tensor& reference) {
    return metric_per_row(logits, clean, metric, {}, reference, first);
  };

  // What ablated senders send ([n_senders, rows or 1, columns or 1, d_model]) and hook_embed's
  // counterpart (EAP-IG's starting point). Mean without `mean` comes from the clean run below.
  at::Tensor ablated, ablated_embed, corrupt_logits;
  if (ablation == plan::Ablation::Patch) {
    ReceiverGradientRun run = receiver_gradient_forward(model, graph, *corrupt, request(false, at::Tensor()));
    out.forward_equivalents += fraction;
    ablated = run.sender_outputs;
    ablated_embed = run.embed;
    corrupt_logits = run.logits;
  } else if (mean) {
    ablated = mean->outputs.permute({2, 0, 1, 3});
    ablated_embed = mean->embed;
  } else if (ablation == plan::Ablation::Zero) {
    const auto options = model.weights().embed.options();
    ablated = at::zeros({static_cast<std::int64_t>(graph.senders().size()), 1, 1, c.d_model}, options);
    ablated_embed = at::zeros({1, 1, c.d_model}, options);
  }
  // [n_senders, rows * columns * d_model]: ablated_s - clean_s, float.
  auto difference = [&](const at::Tensor& clean_outputs) {
    return (ablated.expand_as(clean_outputs) - clean_outputs).to(at::kFloat).reshape({clean_outputs.size(0), -1});
  };

  at::Tensor score_sum = at::zeros({static_cast<std::int64_t>(graph.senders().size()),
                                    static_cast<std::int64_t>(graph.receivers().size())},
                                   model.weights().embed.options().dtype(at::kFloat));
  at::Tensor clean_logits;
  if (!integrated) {
    // EAP: one clean forward and backward gives the clean outputs and every gradient.
    ReceiverGradientRun run = receiver_gradient_forward(model, graph, clean, request(true, at::Tensor()));
    clean_logits = run.logits.detach();
    const at::Tensor per_row = metric_of(run.logits, clean_logits);
    out.clean_metric_sum = per_row.sum().item<double>();
    per_row.sum().backward();
    out.forward_equivalents += 3 * fraction;
    if (!ablated.defined()) std::tie(ablated, ablated_embed) = clean_means(run, clean);
    add_scores(score_sum, difference(run.sender_outputs), run, graph);
  } else {
    ReceiverGradientRun clean_run = receiver_gradient_forward(model, graph, clean, request(false, at::Tensor()));
    out.forward_equivalents += fraction;
    clean_logits = clean_run.logits;
    out.clean_metric_sum = metric_of(clean_logits, clean_logits).sum().item<double>();
    if (!ablated.defined()) std::tie(ablated, ablated_embed) = clean_means(clean_run, clean);
    const at::Tensor diff = difference(clean_run.sender_outputs);
    const at::Tensor clean_embed = clean_run.embed;
    const at::Tensor start = ablated_embed.expand_as(clean_embed);
    clean_run = ReceiverGradientRun();
    for (int k = 0; k < steps; ++k) {
      step_done(context.options, k, steps, analysis.name + ": integrated-gradient step " + std::to_string(k + 1));
      const double alpha = static_cast<double>(k) / steps;
      ReceiverGradientRun run =
          receiver_gradient_forward(model, graph, clean, request(true, start + (clean_embed - start) * alpha));
      metric_of(run.logits, clean_logits).sum().backward();
      out.forward_equivalents += 3 * fraction;
      add_scores(score_sum, diff, run, graph);
    }
    score_sum /= static_cast<double>(steps);
  }
  if (corrupt_logits.defined()) {
    out.has_corrupt_metric = true;
    out.corrupt_metric_sum = metric_of(corrupt_logits, clean_logits).sum().item<double>();
  }
  out.score_sum = score_sum.to(at::kCPU, at::kDouble);
  return out;
}

// Rows per chunk so that the per-row tensors (clean, ablated and differing sender outputs,
// one layer's receiver gradients, the forward's activations kept for the backward) stay within
// the options' memory budget.
std::int64_t rows_per_chunk(const AnalysisContext& context, const EdgeGraph& graph, const TokenBatch& clean) {
  const std::int64_t budget = context.options.memory_budget_bytes;
  if (budget <= 0) return clean.batch();
  const auto& c = context.model.config();
  const std::int64_t S = static_cast<std::int64_t>(graph.senders().size());
  const std::int64_t heads = c.n_heads + 2 * graph.kv_heads();
  const std::int64_t seq = clean.seq();
  const std::int64_t per_position = 3 * S * c.d_model + 3 * (heads + 1) * c.d_model +
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
