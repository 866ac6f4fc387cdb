// HookedModel: a loaded transformer (any family in the family table) that runs a forward
// pass on a batch of token ids and calls a HookSet at every named hook point. Part of the
// runtime's model stage and its public entry point: load, forward, read the HookSet's caches.
// libtorch stays behind a forward declaration and a pimpl.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/formats/model_config.h"
#include "runtime/formats/model_source.h"
#include "runtime/model/runtime_options.h"

namespace at {
class Tensor;
}

namespace circuit::rt {

class HookSet;
struct TokenBatch;
struct ModelWeights;

// Where a resumed forward starts: the first block it runs and the first column it computes.
struct ResumePoint {
  int layer = 0;
  std::int64_t first_column = 0;
};

// Per-layer state of a forward over one batch (see HookedModel::forward_with_cache). Opaque:
// its tensors live behind a pimpl; it knows the batch it was made from.
class PrefixCache {
 public:
  PrefixCache();
  ~PrefixCache();
  PrefixCache(PrefixCache&&) noexcept;
  PrefixCache& operator=(PrefixCache&&) noexcept;
  const TokenBatch& batch() const;
  std::int64_t bytes() const;  // memory it holds
  struct Data;
  Data& data();
  const Data& data() const;

 private:
  std::unique_ptr<Data> data_;
};

// Canonical weight slots (see runtime/model/families.h) to tensors.
using WeightMap = std::unordered_map<std::string, at::Tensor>;

// Where the unembedding runs: every position, or only the last column (with left padding,
// every prompt's last token), which skips most of the vocabulary projection.
enum class LogitsAt { All, Last };

class HookedModel {
 public:
  // Loads the weights of a resolved model (safetensors or GGUF) onto options.device in
  // options.dtype. Errors are one line naming the file and the reason.
  static HookedModel load(const formats::ModelSource& source, const RuntimeOptions& options = {});
  // Builds a model from tensors already in canonical slots (tests, trained toy models).
  static HookedModel from_weights(const formats::ModelConfig& config, WeightMap weights,
                                  const RuntimeOptions& options = {});

  const formats::ModelConfig& config() const;
  const RuntimeOptions& options() const;
  std::int64_t parameter_count() const;
  // "f32", "bf16", "f16": the dtype the weights are held in.
  std::string dtype_name() const;

  // Logits [batch, seq, d_vocab] ([batch, 1, d_vocab] with LogitsAt::Last; the final norm's
  // hook points then see that column only). With hooks, every active point runs its actions;
  // gradients are tracked only when the HookSet asks for one (otherwise without autograd).
  at::Tensor forward(const TokenBatch& batch, HookSet* hooks = nullptr,
                     LogitsAt logits_at = LogitsAt::All) const;
  // Unpadded [batch, seq] int64 token ids.
  at::Tensor forward(const at::Tensor& tokens, HookSet* hooks = nullptr) const;

  const ModelWeights& weights() const;

  // --- Resuming from a clean run (the plan executor's cache reuse; generate's KV cache) ---
  // An intervention at layer L and column p cannot change anything below layer L, nor (the
  // model being causal) any column before p. A PrefixCache keeps, from one forward over a
  // batch, each layer's resid_pre and the keys and values attention reads (after rotary), so a
  // later forward over rows of the same batch can start at (layer, first_column), computing
  // only columns [first_column, seq) and attending to the cached keys and values of the
  // columns before. Columns are padded-batch columns (TokenBatch::column).
  //
  // Hooks in a resumed forward see activations covering columns [first_column, seq) only; a
  // Selection's non-negative positions stay absolute columns (the model shifts them) and
  // negative ones count from the end as before.
  PrefixCache forward_with_cache(const TokenBatch& batch, HookSet* hooks = nullptr,
                                 LogitsAt logits_at = LogitsAt::All,
                                 at::Tensor* logits = nullptr) const;
  // `rows[t]` is the cache row that forward row t repeats (a stacked sweep repeats prompts).
  // Returns logits for columns [first_column, seq) ([batch, 1, d_vocab] with LogitsAt::Last).
  at::Tensor forward_from(const PrefixCache& cache, const std::vector<std::int64_t>& rows,
                          ResumePoint from, HookSet* hooks = nullptr,
                          LogitsAt logits_at = LogitsAt::All) const;
  // Generation's KV cache: appends one column (next_tokens[r] after row r's last token; left
  // padding or none), runs it through every block attending to the cached columns, keeps its
  // state in the cache, and returns its logits [batch, 1, d_vocab].
  at::Tensor extend(PrefixCache& cache, const std::vector<std::int64_t>& next_tokens,
                    HookSet* hooks = nullptr) const;

  // --- Stopping early (forwards read only for their hook points) ---
  // forward / forward_from that stop after block `last_layer`: no later block, final norm or
  // unembedding runs. They return the residual stream after that block ([batch, seq, d_model],
  // resumed: columns [first_column, seq)), what its hook_resid_post sees. A hook point above
  // `last_layer` (a later block's, the final norm's, the logits') would not run: it is refused.
  at::Tensor forward_until(const TokenBatch& batch, int last_layer, HookSet* hooks = nullptr) const;
  at::Tensor forward_from_until(const PrefixCache& cache, const std::vector<std::int64_t>& rows,
                                ResumePoint from, int last_layer, HookSet* hooks = nullptr) const;

  // --- A cache of the columns before a resume column only ---
  // The PrefixCache of a forward over the first `columns` padded columns of `batch` alone, for
  // forward_from at layer 0 and any column up to `columns` (EAP resumes the clean, corrupt and
  // gradient runs at the first column where the prompts differ): those columns cost their
  // share of a forward and no more. It holds no later column: resuming it at a later column
  // or a later layer, or extending it, is refused.
  PrefixCache forward_prefix(const TokenBatch& batch, std::int64_t columns) const;

 private:
  struct Impl;
  explicit HookedModel(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

}  // namespace circuit::rt
