// A forward pass over the edge graph (edge_graph.h) with a set of edges ablated, and the pieces
// the edge-level analyses share: what an ablated sender sends instead (patch / mean / zero),
// gradients at every receiver input, and the analysis metric of an ablated graph. Part of the
// runtime's analysis stage (EAP, EAP-IG, ACDC and the circuit measures build on it).
//
// Ablating the edge s -> r changes only what r reads: r's input becomes
//     input_r - sum over ablated edges (s -> r) of (output_s - ablated_s)
// where output_s is s's output in this same (already ablated) run and ablated_s is s's output
// in the corrupt run (Ablation::Patch, row by row), its mean over the clean prompts and their
// real positions (Mean), or zero (Zero). Everything else (the residual stream itself, other
// receivers) is untouched. It is one forward with HookSet function hooks: senders record their
// output, receivers subtract. A head's receivers act on the residual before the block's norm:
// the hook at hook_q_input (after the norm) recomputes the norm of the corrected residual.
// Identities (tests/cpp/analysis/edge): no edge ablated gives the plain forward's logits
// exactly; every edge ablated under Patch gives the corrupt run's logits.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "compiler/plan/hook_plan.h"
#include "runtime/analysis/analysis_context.h"
#include "runtime/analysis/edge_graph.h"
#include "runtime/model/hooked_model.h"
#include "runtime/model/token_batch.h"

namespace circuit::rt {

struct GraphForwardRequest {
  // One flag per graph edge (EdgeGraph::edges order); empty: nothing ablated.
  std::vector<std::uint8_t> ablated;
  // What an ablated edge's sender sends: [batch or 1, seq or 1, n_senders, d_model].
  at::Tensor ablated_outputs;
  // Keep every sender's output (GraphRun::sender_outputs) and hook_embed's value.
  bool record_senders = false;
  // Track gradients at every receiver input: call backward on a function of the logits, then
  // read GraphRun::receiver_gradients(). Autograd through a copy of the residual per head: the
  // reference that receiver_gradients.h (what EAP uses: no per-head copies) is tested against.
  bool receiver_gradients = false;
  // A receiver that ablates more senders than it keeps subtracts the sum over everything
  // upstream and adds its kept edges back (fast when a small circuit is kept); true forces the
  // edge-by-edge sum, the reference that form is tested against.
  bool sum_ablated_edges_directly = false;
  // Replaces hook_embed's value (EAP-IG's interpolated inputs); undefined: the model's own.
  at::Tensor embed;
  LogitsAt logits_at = LogitsAt::All;
};

struct GraphRun {
  at::Tensor logits;
  at::Tensor sender_outputs;  // [batch, seq, n_senders, d_model] (record_senders), detached
  at::Tensor embed;           // hook_embed's value [batch, seq, d_model] (record_senders), detached
  // d (what backward was called on) / d receiver input: [batch, seq, n_receivers, d_model],
  // receivers in EdgeGraph::receivers() order. Only after backward.
  at::Tensor receiver_gradients() const;

  std::vector<at::Tensor> leaves;  // per receiver group, in receiver order (internal)
};

GraphRun graph_forward(const HookedModel& model, const EdgeGraph& graph, const TokenBatch& batch,
                       const GraphForwardRequest& request);

// What ablated senders send, and hook_embed's counterpart (EAP-IG's starting point).
struct AblationBaseline {
  at::Tensor outputs;  // [batch, seq, n_senders, d_model] (Patch) or [1, 1, n_senders, d_model]
  at::Tensor embed;    // [batch, seq, d_model] (Patch) or [1, 1, d_model]
  at::Tensor logits;   // Patch: the corrupt run's logits (at `logits_at`); else undefined
  int forwards = 0;    // forwards it cost
};

// Patch needs `corrupt`, row-aligned with `clean` (same rows, same lengths); Mean averages the
// clean run's outputs over rows and real positions; Zero costs nothing. Throws
// std::invalid_argument (one line) when Patch has no corrupt prompts or they do not align.
AblationBaseline ablation_baseline(const HookedModel& model, const EdgeGraph& graph, const TokenBatch& clean,
                                   const TokenBatch* corrupt, plan::Ablation ablation,
                                   LogitsAt logits_at = LogitsAt::Last);
// Mean ablation from a clean run that recorded its senders (no extra forward).
AblationBaseline mean_baseline(const GraphRun& clean_run, const TokenBatch& clean);


// The metric of the clean prompts through the graph with some edges ablated: the loop of ACDC
// and the circuit measures. Without an analysis metric it is KL(full model || ablated graph)
// at each prompt's last token. Constructing it runs the full model once and the ablation
// baseline's forwards.
class AblatedMetric {
 public:
  AblatedMetric(const AnalysisContext& context, const EdgeGraph& graph);

  // Mean over rows of the metric with these edges (flags per graph edge) ablated.
  double operator()(const std::vector<std::uint8_t>& ablated);
  // Per-row values of the same.
  at::Tensor per_row(const std::vector<std::uint8_t>& ablated);
  double full() const { return full_; }  // nothing ablated
  bool is_kl() const { return metric_.kind == plan::MetricKind::Kl; }
  int forwards() const { return forwards_; }
  const plan::Metric& metric() const { return metric_; }

 private:
  AnalysisContext context_;  // a copy: its references outlive us, the caller's context object need not
  const EdgeGraph& graph_;
  TokenBatch clean_;
  plan::Metric metric_;
  LogitsAt logits_at_ = LogitsAt::All;
  at::Tensor reference_logits_;
  AblationBaseline baseline_;
  double full_ = 0.0;
  int forwards_ = 0;
};

}  // namespace circuit::rt
