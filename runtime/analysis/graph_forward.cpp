// Only what an ablation touches gets a hook: senders with an ablated outgoing edge record
// their output, receivers with an ablated incoming edge subtract. So a forward with nothing
// ablated is the plain forward, and unaffected parts compute exactly as they would without us.
#include "runtime/analysis/graph_forward.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>

#include "runtime/analysis/analysis_runs.h"
#include "runtime/exec/metric.h"
#include "runtime/exec/plan_tensors.h"
#include "runtime/hooks/hook_set.h"
#include "runtime/model/model_weights.h"

namespace circuit::rt {
namespace {

using formats::NormKind;

// The block's first norm, as runtime/model/block.cpp computes it (without its hook points).
at::Tensor first_norm(const at::Tensor& x, const LayerWeights& w, const formats::ModelConfig& c) {
  if (c.norm == NormKind::None) return x;
  if (c.norm == NormKind::LayerNorm) return at::layer_norm(x, {x.size(-1)}, w.ln1_w, w.ln1_b, c.norm_eps);
  auto xf = x.to(at::kFloat);
  auto y = xf * at::rsqrt(xf.pow(2).mean(-1, true) + c.norm_eps);
  return w.ln1_w * y.to(x.scalar_type());
}

// One hook point's receivers: layer l's <q>, <k> or <v> receivers, its MLP, or the logits.
struct ReceiverGroup {
  HookKind kind;
  int layer;
  int first;  // first receiver index
  int count;  // receivers in the group (heads along the hook's head axis, or 1)
};

std::vector<ReceiverGroup> receiver_groups(const EdgeGraph& graph) {
  const auto& c = graph.config();
  std::vector<ReceiverGroup> out;
  for (int l = 0; l < c.n_layers; ++l) {
    const int r = graph.first_receiver(l);
    out.push_back({HookKind::QInput, l, r, c.n_heads});
    out.push_back({HookKind::KInput, l, r + c.n_heads, graph.kv_heads()});
    out.push_back({HookKind::VInput, l, r + c.n_heads + graph.kv_heads(), graph.kv_heads()});
    if (graph.has_mlp()) out.push_back({HookKind::MlpIn, l, graph.mlp_receiver(l), 1});
  }
  out.push_back({HookKind::ResidPost, c.n_layers - 1, graph.logits_receiver(), 1});
  return out;
}

// Shared by the hook functions of one forward.
struct ForwardScratch {
  std::vector<at::Tensor> outputs;          // per sender, this run, [b, p, d]
  std::vector<at::Tensor> resid_pre;        // per layer, when a head's receivers need it
  at::Tensor embed;
  // When some receiver group ablates most of what it reads (faithfulness ablates everything
  // outside a small circuit), the sum over every sender recorded so far of (output_s - ablated_s)
  // lets it subtract that sum and add back its few kept edges instead.
  bool keep_running_sum = false;
  at::Tensor ablated_outputs;               // [b or 1, p or 1, S, d]
  at::Tensor running;                       // sum of the differences of the senders in `summed`
  std::vector<std::uint8_t> summed;

  void record(int s, const at::Tensor& output) {
    outputs[s] = output;
    if (!keep_running_sum) return;
    at::Tensor difference = output - ablated_outputs.select(2, s);
    running = running.defined() ? running + difference : difference;
    summed[s] = 1;
  }
  at::Tensor difference(int s) const { return outputs[s] - ablated_outputs.select(2, s); }
};

// The correction one receiver group subtracts: sum over its ablated edges of
// (output_s - ablated_s), [b, p, count, d]. Undefined when no edge into the group is ablated.
// Written as a sum over the ablated edges, or, when the group keeps fewer senders than it
// ablates, as the sum over everything upstream minus the kept edges (`complement`).
struct GroupAblation {
  std::vector<int> senders;  // senders with an ablated edge into the group
  at::Tensor weights;        // [senders, count]: 1 where that edge is ablated
  std::vector<std::uint8_t> changed;  // per receiver of the group: some edge into it is ablated
  bool complement = false;
  std::vector<int> upstream;      // complement: every sender with an edge into the group
  std::vector<int> kept;          // complement: senders with a kept edge into the group
  at::Tensor kept_weights;        // complement: [kept, count], 1 where that edge is kept
};

at::Tensor weight_matrix(const std::vector<std::vector<float>>& rows, int count, const at::TensorOptions& options) {
  std::vector<float> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  return at::tensor(flat, at::kFloat).view({static_cast<std::int64_t>(rows.size()), count}).to(options);
}

GroupAblation group_ablation(const EdgeGraph& graph, const ReceiverGroup& group,
                             const std::vector<std::uint8_t>& ablated, bool allow_complement,
                             const at::TensorOptions& options) {
  GroupAblation out;
  if (ablated.empty()) return out;
  const std::size_t S = graph.senders().size();
  std::vector<std::vector<float>> rows, kept_rows;  // per sender
  std::vector<int> row_of(S, -1), kept_row_of(S, -1);
  std::vector<std::uint8_t> upstream(S, 0);
  for (int k = 0; k < group.count; ++k) {
    const auto [first, n] = graph.incoming(group.first + k);
    for (std::size_t e = first; e < first + n; ++e) {
      const int s = graph.edges()[e].sender;
      upstream[s] = 1;
      auto& index = ablated[e] ? row_of : kept_row_of;
      auto& list = ablated[e] ? rows : kept_rows;
      if (index[s] < 0) {
        index[s] = static_cast<int>(list.size());
        list.emplace_back(group.count, 0.0f);
        (ablated[e] ? out.senders : out.kept).push_back(s);
      }
      list[index[s]][k] = 1.0f;
    }
  }
  if (out.senders.empty()) return GroupAblation{};  // nothing to subtract, nothing to record
  out.changed.assign(group.count, 0);
  for (const auto& r : rows)
    for (int k = 0; k < group.count; ++k) out.changed[k] |= r[k] != 0.0f;
  out.complement = allow_complement && out.kept.size() < out.senders.size();
  if (out.complement) {
    for (std::size_t s = 0; s < S; ++s)
      if (upstream[s]) out.upstream.push_back(static_cast<int>(s));
    if (!kept_rows.empty()) out.kept_weights = weight_matrix(kept_rows, group.count, options);
  } else {
    out.weights = weight_matrix(rows, group.count, options);
    out.kept.clear();  // only the complement form reads kept edges
  }
  return out;
}

at::Tensor weighted_differences(const std::vector<int>& senders, const at::Tensor& weights, const ForwardScratch& scratch) {
  std::vector<at::Tensor> diffs;
  for (int s : senders) diffs.push_back(scratch.difference(s));
  return at::einsum("bpsd,sr->bprd", {at::stack(diffs, 2), weights});
}

at::Tensor group_delta(const GroupAblation& ablation, const ForwardScratch& scratch, int count) {
  if (!ablation.complement) return weighted_differences(ablation.senders, ablation.weights, scratch);
  // Sum over the upstream senders: the running sum, corrected for senders recorded so far that
  // are not upstream of this group (a parallel-residual block's own heads, for its MLP).
  at::Tensor total = scratch.running;
  std::vector<std::uint8_t> is_upstream(scratch.summed.size(), 0);
  for (int s : ablation.upstream) {
    is_upstream[s] = 1;
    if (!scratch.summed[s]) throw std::logic_error("graph_forward: a sender runs after its receiver");
  }
  for (std::size_t s = 0; s < scratch.summed.size(); ++s)
    if (scratch.summed[s] && !is_upstream[s]) total = total - scratch.difference(static_cast<int>(s));
  at::Tensor delta = total.unsqueeze(2).expand({total.size(0), total.size(1), count, total.size(2)});
  if (!ablation.kept.empty()) delta = delta - weighted_differences(ablation.kept, ablation.kept_weights, scratch);
  return delta;
}

void check_ablated_outputs(const EdgeGraph& graph, const TokenBatch& batch, const at::Tensor& outputs) {
  const auto S = static_cast<std::int64_t>(graph.senders().size());
  if (!outputs.defined() || outputs.dim() != 4 || outputs.size(2) != S ||
      outputs.size(3) != graph.config().d_model ||
      (outputs.size(0) != 1 && outputs.size(0) != batch.batch()) ||
      (outputs.size(1) != 1 && outputs.size(1) != batch.seq()))
    throw std::invalid_argument("graph_forward: ablated sender outputs must be [batch or 1, seq or 1, " +
                                std::to_string(S) + ", " + std::to_string(graph.config().d_model) + "]");
}

}  // namespace

at::Tensor GraphRun::receiver_gradients() const {
  std::vector<at::Tensor> parts;
  for (const auto& leaf : leaves) {
    at::Tensor g = leaf.grad().defined() ? leaf.grad() : at::zeros_like(leaf);
    parts.push_back(g.dim() == 3 ? g.unsqueeze(2) : g);
  }
  if (parts.empty()) throw std::logic_error("graph_forward ran without receiver gradients");
  return at::cat(parts, 2);
}

GraphRun graph_forward(const HookedModel& model, const EdgeGraph& graph, const TokenBatch& batch,
                       const GraphForwardRequest& request) {
  const auto& c = model.config();
  const auto& weights = model.weights();
  const std::size_t S = graph.senders().size();
  const bool ablating = !request.ablated.empty();
  if (ablating) {
    if (request.ablated.size() != graph.edge_count())
      throw std::invalid_argument("graph_forward: " + std::to_string(request.ablated.size()) +
                                  " edge flags for a graph of " + std::to_string(graph.edge_count()) + " edges");
    check_ablated_outputs(graph, batch, request.ablated_outputs);
  }
  const auto options = at::TensorOptions().dtype(weights.embed.scalar_type()).device(weights.embed.device());

  // What each receiver group subtracts, and so which senders must record their output.
  const std::vector<ReceiverGroup> groups = receiver_groups(graph);
  std::vector<std::shared_ptr<const GroupAblation>> ablations;
  std::vector<std::uint8_t> record(S, request.record_senders ? 1 : 0);
  auto scratch = std::make_shared<ForwardScratch>();
  scratch->outputs.resize(S);
  scratch->resid_pre.resize(c.n_layers);
  scratch->summed.assign(S, 0);
  for (const ReceiverGroup& group : groups) {
    auto ablation = std::make_shared<const GroupAblation>(group_ablation(graph, group, request.ablated, !request.sum_ablated_edges_directly, options));
    for (int s : ablation->senders) record[s] = 1;
    for (int s : ablation->kept) record[s] = 1;
    if (ablation->complement) {
      scratch->keep_running_sum = true;
      for (int s : ablation->upstream) record[s] = 1;
    }
    ablations.push_back(std::move(ablation));
  }
  if (ablating) scratch->ablated_outputs = request.ablated_outputs.to(options.device(), options.dtype());
  HookSet hooks(c);
  GraphRun run;

  // --- senders ---
  const bool learned_residual_positions = c.positions == formats::PositionKind::Learned;
  if (request.embed.defined() || record[0] || request.record_senders) {
    at::Tensor replacement = request.embed;
    const bool input_done_here = !learned_residual_positions;
    const bool record_input = record[0];
    auto embed_hook = [scratch, replacement, input_done_here, record_input](const at::Tensor& x, const HookContext&) {
      at::Tensor y = replacement.defined() ? replacement.to(x.device(), x.scalar_type()).expand_as(x) : x;
      scratch->embed = y;
      if (input_done_here && record_input) scratch->record(0, y);
      return y;
    };
    hooks.call({HookKind::Embed, -1}, embed_hook);
    if (learned_residual_positions && record_input) {
      hooks.call({HookKind::PosEmbed, -1}, [scratch](const at::Tensor& pos, const HookContext&) {
        scratch->record(0, scratch->embed + pos);
        return pos;
      });
    }
  }
  for (int l = 0; l < c.n_layers; ++l) {
    const int first = graph.first_head_sender(l);
    bool any = false;
    for (int h = 0; h < c.n_heads; ++h) any |= record[first + h] != 0;
    if (any) {
      hooks.call({HookKind::Result, l}, [scratch, first](const at::Tensor& result, const HookContext&) {
        for (std::int64_t h = 0; h < result.size(2); ++h) scratch->record(first + static_cast<int>(h), result.select(2, h));
        return result;
      });
    }
    const int m = graph.mlp_sender(l);
    if (m >= 0 && record[m]) {
      hooks.call({HookKind::MlpOut, l}, [scratch, m](const at::Tensor& out, const HookContext&) {
        scratch->record(m, out);
        return out;
      });
    }
  }

  // --- receivers ---
  std::vector<std::uint8_t> stash_resid(c.n_layers, 0);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const ReceiverGroup& group = groups[g];
    const std::shared_ptr<const GroupAblation> ablation = ablations[g];
    const bool subtract = !ablation->senders.empty();
    if (!subtract && !request.receiver_gradients) continue;
    const bool head_input = group.kind == HookKind::QInput || group.kind == HookKind::KInput ||
                            group.kind == HookKind::VInput;
    const bool renorm = head_input && c.norm != NormKind::None;
    if (renorm) stash_resid[group.layer] = 1;
    // Heads whose input changes (the others keep the model's value bit for bit).
    at::Tensor head_mask;
    if (head_input && subtract && !request.receiver_gradients) {
      std::vector<float> changed(ablation->changed.begin(), ablation->changed.end());
      head_mask = (at::tensor(changed, at::kFloat) > 0).view({1, 1, group.count, 1}).to(options.device());
    }
    const int leaf_index = static_cast<int>(run.leaves.size());
    if (request.receiver_gradients) run.leaves.emplace_back();
    const bool want_leaf = request.receiver_gradients;
    const LayerWeights* layer_weights = head_input ? &weights.layers[group.layer] : nullptr;
    GraphRun* run_ptr = &run;
    hooks.call({group.kind, group.layer},
               [=, &c](const at::Tensor& x, const HookContext&) {
                 at::Tensor change;  // in residual space, shaped like x
                 if (subtract) {
                   change = -group_delta(*ablation, *scratch, group.count);
                   if (!head_input) change = change.squeeze(2);
                 }
                 if (want_leaf) {
                   at::Tensor leaf = at::zeros(x.sizes(), x.options()).requires_grad_(true);
                   run_ptr->leaves[leaf_index] = leaf;
                   change = change.defined() ? change + leaf : leaf;
                 }
                 if (!renorm) return at::Tensor(x + change);
                 // x = norm(resid_pre) (+ query/key positions): swap the norm of the corrected residual in.
                 at::Tensor resid = scratch->resid_pre[group.layer].unsqueeze(2).expand(x.sizes());
                 at::Tensor y = x - first_norm(resid, *layer_weights, c) + first_norm(resid + change, *layer_weights, c);
                 return head_mask.defined() ? at::where(head_mask, y, x) : y;
               });
  }
  for (int l = 0; l < c.n_layers; ++l) {
    if (!stash_resid[l]) continue;
    hooks.call({HookKind::ResidPre, l}, [scratch, l](const at::Tensor& x, const HookContext&) {
      scratch->resid_pre[l] = x;
      return x;
    });
  }
  // Autograd runs only when the HookSet asks for a gradient somewhere.
  if (request.receiver_gradients) hooks.request_gradient(HookPointRef{HookKind::Embed, -1});

  run.logits = model.forward(batch, &hooks, request.logits_at);
  if (request.record_senders) {
    std::vector<at::Tensor> outs;
    for (std::size_t s = 0; s < S; ++s) outs.push_back(scratch->outputs[s].detach());
    run.sender_outputs = at::stack(outs, 2);
    run.embed = scratch->embed.detach();
  }
  return run;
}

AblationBaseline mean_baseline(const GraphRun& clean_run, const TokenBatch& clean) {
  const at::Tensor& outputs = clean_run.sender_outputs;
  if (!outputs.defined() || !clean_run.embed.defined())
    throw std::logic_error("mean_baseline needs a run that recorded its senders");
  at::Tensor real = clean.padded() ? clean.attention_mask.to(outputs.device()).to(at::kFloat)
                                   : at::ones({clean.batch(), clean.seq()}, outputs.options().dtype(at::kFloat));
  const at::Tensor count = real.sum();
  auto mean = [&](const at::Tensor& x) {  // over rows and real positions
    at::Tensor weight = x.dim() == 4 ? real.view({real.size(0), real.size(1), 1, 1}) : real.unsqueeze(2);
    return ((x.to(at::kFloat) * weight).sum(at::IntArrayRef{0, 1}, true) / count).to(x.scalar_type());
  };
  AblationBaseline out;
  out.outputs = mean(outputs);
  out.embed = mean(clean_run.embed);
  return out;
}

AblationBaseline ablation_baseline(const HookedModel& model, const EdgeGraph& graph, const TokenBatch& clean,
                                   const TokenBatch* corrupt, plan::Ablation ablation, LogitsAt logits_at) {
  const auto& w = model.weights();
  const auto options = at::TensorOptions().dtype(w.embed.scalar_type()).device(w.embed.device());
  const std::int64_t S = static_cast<std::int64_t>(graph.senders().size()), d = graph.config().d_model;
  GraphForwardRequest record;
  record.record_senders = true;
  record.logits_at = logits_at;
  switch (ablation) {
    case plan::Ablation::Zero: {
      AblationBaseline out;
      out.outputs = at::zeros({1, 1, S, d}, options);
      out.embed = at::zeros({1, 1, d}, options);
      return out;
    }
    case plan::Ablation::Patch: {
      if (!corrupt) throw std::invalid_argument("patch ablation needs corrupt prompts");
      if (corrupt->batch() != clean.batch() || corrupt->seq() != clean.seq() || corrupt->side != clean.side ||
          corrupt->lengths != clean.lengths) {
        std::string why = std::to_string(corrupt->batch()) + " corrupt prompts for " +
                          std::to_string(clean.batch()) + " clean";
        for (std::int64_t r = 0; r < std::min(corrupt->batch(), clean.batch()); ++r) {
          if (corrupt->lengths[r] != clean.lengths[r]) {
            why = "corrupt prompt " + std::to_string(r) + " has " + std::to_string(corrupt->lengths[r]) +
                  " tokens, its clean prompt " + std::to_string(clean.lengths[r]);
            break;
          }
        }
        throw std::invalid_argument(
            "patch ablation needs corrupt prompts row-aligned with the clean ones (same count, same lengths): " + why);
      }
      GraphRun run = graph_forward(model, graph, *corrupt, record);
      AblationBaseline out;
      out.outputs = run.sender_outputs;
      out.embed = run.embed;
      out.logits = run.logits;
      out.forwards = 1;
      return out;
    }
    case plan::Ablation::Mean: {
      AblationBaseline out = mean_baseline(graph_forward(model, graph, clean, record), clean);
      out.forwards = 1;
      return out;
    }
  }
  throw std::invalid_argument("unknown ablation");
}

AblatedMetric::AblatedMetric(const AnalysisContext& context, const EdgeGraph& graph)
    : context_(context), graph_(graph), clean_(clean_prompts(context)) {
  if (context.analysis.metric && context.analysis.metric->kind != plan::MetricKind::Kl) {
    metric_ = *context.analysis.metric;
  } else {
    if (context.analysis.metric) metric_ = *context.analysis.metric;
    metric_.name = metric_.name.empty() ? "kl" : metric_.name;
    metric_.kind = plan::MetricKind::Kl;
  }
  metric_.normalize.reset();
  logits_at_ = logits_for_metric(clean_, metric_);
  std::unique_ptr<TokenBatch> corrupt = corrupt_prompts_if_any(context);
  try {
    baseline_ = ablation_baseline(context.model, graph, clean_, corrupt.get(), context.analysis.ablation);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string(plan::analysis_kind_name(context.analysis.kind)) + ": " + e.what());
  }
  forwards_ += baseline_.forwards;
  reference_logits_ = context.model.forward(clean_, nullptr, logits_at_);
  ++forwards_;
  full_ = metric_per_row(reference_logits_, clean_, metric_, {}, reference_logits_).mean().item<double>();
}

at::Tensor AblatedMetric::per_row(const std::vector<std::uint8_t>& ablated) {
  GraphForwardRequest request;
  request.ablated = ablated;
  request.ablated_outputs = baseline_.outputs;
  request.logits_at = logits_at_;
  GraphRun run = graph_forward(context_.model, graph_, clean_, request);
  ++forwards_;
  return metric_per_row(run.logits, clean_, metric_, {}, reference_logits_);
}

double AblatedMetric::operator()(const std::vector<std::uint8_t>& ablated) {
  return per_row(ablated).mean().item<double>();
}

}  // namespace circuit::rt
