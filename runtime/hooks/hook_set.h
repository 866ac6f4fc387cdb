// HookSet: the interventions and reads one forward pass makes at named hook points (cache,
// replace, add, scale, call a C++ function, take the gradient), each on a selection of batch
// rows, positions, heads and neurons. Part of the runtime's hooks stage; the model asks
// `active(kind, layer)` at every point and does nothing more when it is false.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/formats/hook_point_table.h"
#include "runtime/formats/model_config.h"

namespace circuit::rt {

using formats::HookKind;
using formats::HookPointRef;

// Indices along the axes the table names for a hook point; empty means all. Negative
// positions count from the end (with left padding, -1 is every prompt's last token).
// Non-negative positions are padded-batch columns, also in a resumed forward (see
// HookSet::set_position_offset).
struct Selection {
  std::vector<std::int64_t> batch;
  std::vector<std::int64_t> positions;
  std::vector<std::int64_t> heads;
  std::vector<std::int64_t> neurons;
  bool all() const { return batch.empty() && positions.empty() && heads.empty() && neurons.empty(); }
};

enum class HookOp { Cache, Replace, Add, Scale, Call };

// What a function hook learns about where it runs.
struct HookContext {
  HookKind kind;
  int layer;
  const std::string& name;
  std::int64_t first_column = 0;  // the activation's position 0 is this padded column
};
using HookFunction = std::function<at::Tensor(const at::Tensor& activation, const HookContext&)>;

class HookSet {
 public:
  explicit HookSet(const formats::ModelConfig& config);

  const formats::ModelConfig& config() const { return config_; }

  // Name-based forms resolve against the model's hook point table (std::invalid_argument with
  // a one-line message naming the nearest valid point or the valid layer/head range).
  HookPointRef ref(std::string_view name) const;

  // Keeps the activation (the selected slice of it) after every earlier action at that point.
  void cache(HookPointRef at, Selection selection = {});
  void cache(std::string_view name, Selection selection = {}) { cache(ref(name), std::move(selection)); }
  // `value` must broadcast to the activation's shape; only the selected slice changes.
  void replace(HookPointRef at, at::Tensor value, Selection selection = {});
  void add(HookPointRef at, at::Tensor value, Selection selection = {});
  void scale(HookPointRef at, double factor, Selection selection = {});
  // The function's result replaces the activation (same shape).
  void call(HookPointRef at, HookFunction function);
  // Keeps the activation in the autograd graph; after `metric.backward()`, gradient(name)
  // holds d metric / d activation. The forward then runs with gradients enabled.
  void request_gradient(HookPointRef at);
  void request_gradient(std::string_view name) { request_gradient(ref(name)); }

  // Caches every hook point the model has (opt-in points too when asked).
  void cache_all(bool include_opt_in = false);

  // The model's question at each point: is anything to be done here? A flat lookup.
  bool active(HookKind kind, int layer) const {
    const size_t i = slot(kind, layer);
    return i < active_.size() && active_[i];
  }
  bool wants_gradients() const { return !gradient_points_.empty(); }

  // Set by the model at the start of every forward: a resumed forward's activations start at
  // padded column `first_column` (0 for a full forward). Selections' non-negative positions
  // are shifted by it, and a replace/add value spanning every column is narrowed to the
  // computed ones.
  void set_position_offset(std::int64_t first_column) { position_offset_ = first_column; }
  std::int64_t position_offset() const { return position_offset_; }

  // Runs every action registered at (kind, layer) in the order they were added; returns the
  // activation the forward continues with. Called only when active(kind, layer).
  at::Tensor apply(HookKind kind, int layer, at::Tensor activation);

  // Results of the last forward. Keys are hook point names.
  const std::map<std::string, at::Tensor>& caches() const { return caches_; }
  const at::Tensor& cached(std::string_view name) const;
  std::map<std::string, at::Tensor> gradients() const;
  at::Tensor gradient(std::string_view name) const;
  void clear_results();

 private:
  struct Action {
    HookOp op;
    Selection selection;
    at::Tensor value;
    double factor = 1.0;
    HookFunction function;
  };
  size_t slot(HookKind kind, int layer) const {
    return static_cast<size_t>(kind) * static_cast<size_t>(config_.n_layers + 1) +
           static_cast<size_t>(layer + 1);
  }
  void push(HookPointRef at, Action action);
  void check_selection(HookPointRef at, const Selection& selection) const;

  formats::ModelConfig config_;
  std::vector<std::uint8_t> active_;
  std::vector<std::vector<Action>> actions_;  // by slot
  std::vector<std::uint8_t> gradient_slots_;
  std::vector<size_t> gradient_points_;
  std::map<std::string, at::Tensor> caches_;
  std::map<std::string, at::Tensor> gradient_leaves_;  // zero "delta" added to the activation
  std::int64_t position_offset_ = 0;
};

// Applies `op` to the selected slice of `x` (exposed for the plan executor and tests).
// `position_offset`: x's position 0 is that padded column (a resumed forward); non-negative
// selected positions are shifted by it (one before it is an error), and a value whose
// position axis spans the offset columns too is narrowed to x's.
at::Tensor apply_on_selection(const at::Tensor& x, const formats::HookPointSpec& spec,
                              const Selection& selection, HookOp op, const at::Tensor& value,
                              double factor, std::int64_t position_offset = 0);
// The selected slice of `x` (index_select along each selected axis).
at::Tensor select_slice(const at::Tensor& x, const formats::HookPointSpec& spec,
                        const Selection& selection, std::int64_t position_offset = 0);

}  // namespace circuit::rt
