// The gradient of a function of the logits at every receiver input of the edge graph
// (edge_graph.h), and every sender's output, from one plain forward and one backward of the
// model: what EAP and EAP-IG (eap.cpp) score edges with. Part of the runtime's analysis stage.
//
// A head's receiver input is the residual stream before the block's first norm, as that head
// alone reads it. Rather than running the norm and the q/k/v projections on a copy of the
// residual per head (graph_forward.h's receiver_gradients, which autograd then walks back
// through), the forward asks for gradients only at hook_q, hook_k and hook_v (before rotary),
// and the gradient at head h's input is the first norm's vector-Jacobian product of g_h W_h
// (g_h the gradient at h's q, k or v, W_h h's rows of qkv_w), worked out here per layer when
// asked for. Learned positions added to the query/key input (attn-only) do not change it. MLP
// receivers (hook_mlp_in, before the MLP's norm) and the logits (the last hook_resid_post)
// take their gradients as they are.
//
// A run may resume from a clean run's PrefixCache at a column (HookedModel::forward_from):
// then only columns [first_column, seq) are computed, and the outputs and gradients cover
// those columns. They are exact there: in a causal model nothing at those columns feeds the
// cached columns before them.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>

#include "runtime/analysis/edge_graph.h"
#include "runtime/model/hooked_model.h"
#include "runtime/model/token_batch.h"

namespace circuit::rt {

struct ReceiverGradientRequest {
  // Resume from this cache of a forward over a batch that agrees with ours on every column
  // before first_column (the clean run, for a corrupt or interpolated one). Null: a full forward.
  const PrefixCache* prefix = nullptr;
  std::int64_t first_column = 0;
  // Replaces hook_embed's value over the computed columns ([batch, columns, d_model]; EAP-IG's
  // interpolated inputs). Undefined: the embedding of the batch's own tokens.
  at::Tensor embed;
  // false: only the forward and the sender outputs (no autograd).
  bool gradients = true;
  LogitsAt logits_at = LogitsAt::All;
};

class ReceiverGradientRun {
 public:
  // The computed columns' logits ([batch, 1, d_vocab] with LogitsAt::Last), in the autograd
  // graph when gradients were asked for.
  at::Tensor logits;
  // Every sender's output over the computed columns, [n_senders, batch, columns, d_model],
  // detached, in EdgeGraph::senders() order.
  at::Tensor sender_outputs;
  // hook_embed's value over the computed columns [batch, columns, d_model], detached.
  at::Tensor embed;

  // After backward on a function of `logits`: d (that function) / d (input of every receiver
  // of layer `layer`), [count, batch, columns, d_model] float, the receivers
  // [first_receiver(layer), first_receiver(layer + 1)) in EdgeGraph::receivers() order;
  // layer == n_layers gives the logits receiver's ([1, batch, columns, d_model]).
  at::Tensor receiver_gradients(int layer) const;

  struct State;  // the run's hooks and what the norms' backward needs (internal)
  std::shared_ptr<State> state;
};

ReceiverGradientRun receiver_gradient_forward(const HookedModel& model, const EdgeGraph& graph,
                                              const TokenBatch& batch, const ReceiverGradientRequest& request);

}  // namespace circuit::rt
