#include "runtime/hooks/hook_set.h"

#include <ATen/ATen.h>

#include <stdexcept>

namespace circuit::rt {

using formats::hook_point_spec;
using formats::HookPointSpec;

namespace {

// Selected positions as indices into an activation of n positions starting at padded column
// `offset`: non-negative ones are columns (shifted), negative ones count from the end.
std::vector<std::int64_t> shifted_positions(const std::vector<std::int64_t>& positions, std::int64_t n,
                                            std::int64_t offset) {
  std::vector<std::int64_t> out;
  for (std::int64_t i : positions) {
    if (i < 0) {
      out.push_back(i + n);
      continue;
    }
    if (i < offset)
      throw std::invalid_argument("position " + std::to_string(i) + " is before the first computed column (" +
                                  std::to_string(offset) + ") of a resumed forward");
    out.push_back(i - offset);
  }
  return out;
}

// One boolean vector per selected axis, shaped to broadcast along the others.
at::Tensor selection_mask(const at::Tensor& x, const HookPointSpec& spec, const Selection& sel,
                          std::int64_t offset) {
  at::Tensor mask;
  auto restrict = [&](int axis, const std::vector<std::int64_t>& indices) {
    if (indices.empty() || axis < 0) return;
    const std::int64_t n = x.size(axis);
    auto flags = at::zeros({n}, at::TensorOptions().dtype(at::kBool));
    for (std::int64_t i : indices) flags[i < 0 ? i + n : i] = true;
    std::vector<std::int64_t> shape(x.dim(), 1);
    shape[axis] = n;
    flags = flags.view(shape).to(x.device());
    mask = mask.defined() ? mask.logical_and(flags) : flags;
  };
  restrict(0, sel.batch);
  if (spec.pos_axis >= 0 && !sel.positions.empty())
    restrict(spec.pos_axis, shifted_positions(sel.positions, x.size(spec.pos_axis), offset));
  restrict(spec.head_axis, sel.heads);
  restrict(spec.neuron_axis, sel.neurons);
  return mask;
}

void check_indices(const char* what, const std::vector<std::int64_t>& indices, std::int64_t n,
                   const std::string& point, bool allow_negative) {
  for (std::int64_t i : indices) {
    const bool ok = allow_negative ? (i >= -n && i < n) : (i >= 0 && i < n);
    if (!ok) {
      throw std::invalid_argument(std::string(what) + " " + std::to_string(i) +
                                  " out of range at '" + point + "': valid " + what + "s are 0.." +
                                  std::to_string(n - 1));
    }
  }
}

}  // namespace

HookSet::HookSet(const formats::ModelConfig& config) : config_(config) {
  const size_t n = static_cast<size_t>(formats::kHookKindCount) * (config_.n_layers + 1);
  active_.assign(n, 0);
  actions_.resize(n);
  gradient_slots_.assign(n, 0);
}

HookPointRef HookSet::ref(std::string_view name) const {
  return formats::resolve_hook_point(name, config_);
}

void HookSet::check_selection(HookPointRef at, const Selection& selection) const {
  const HookPointSpec& spec = hook_point_spec(at.kind);
  const std::string name = formats::hook_point_name(at.kind, at.layer);
  if (!selection.heads.empty()) {
    if (spec.head_axis < 0) throw std::invalid_argument("'" + name + "' has no head axis");
    check_indices("head", selection.heads, formats::head_count(spec, config_), name, false);
  }
  if (!selection.neurons.empty()) {
    if (spec.neuron_axis < 0) throw std::invalid_argument("'" + name + "' has no neuron axis");
    check_indices("neuron", selection.neurons, config_.d_mlp, name, false);
  }
}

void HookSet::push(HookPointRef at, Action action) {
  const HookPointSpec& spec = hook_point_spec(at.kind);
  if (spec.per_layer && (at.layer < 0 || at.layer >= config_.n_layers)) {
    throw std::invalid_argument("layer " + std::to_string(at.layer) + " out of range at '" +
                                spec.pattern + "': layers are 0.." +
                                std::to_string(config_.n_layers - 1));
  }
  if (!spec.per_layer) at.layer = -1;
  check_selection(at, action.selection);
  const size_t i = slot(at.kind, at.layer);
  active_[i] = 1;
  actions_[i].push_back(std::move(action));
}

void HookSet::cache(HookPointRef at, Selection selection) {
  push(at, Action{HookOp::Cache, std::move(selection), {}, 1.0, {}});
}
void HookSet::replace(HookPointRef at, at::Tensor value, Selection selection) {
  push(at, Action{HookOp::Replace, std::move(selection), std::move(value), 1.0, {}});
}
void HookSet::add(HookPointRef at, at::Tensor value, Selection selection) {
  push(at, Action{HookOp::Add, std::move(selection), std::move(value), 1.0, {}});
}
void HookSet::scale(HookPointRef at, double factor, Selection selection) {
  push(at, Action{HookOp::Scale, std::move(selection), {}, factor, {}});
}
void HookSet::call(HookPointRef at, HookFunction function) {
  push(at, Action{HookOp::Call, {}, {}, 1.0, std::move(function)});
}

void HookSet::request_gradient(HookPointRef at) {
  const HookPointSpec& spec = hook_point_spec(at.kind);
  if (!spec.per_layer) at.layer = -1;
  else if (at.layer < 0 || at.layer >= config_.n_layers)
    throw std::invalid_argument("layer " + std::to_string(at.layer) + " out of range: layers are 0.." +
                                std::to_string(config_.n_layers - 1));
  const size_t i = slot(at.kind, at.layer);
  active_[i] = 1;
  if (!gradient_slots_[i]) {
    gradient_slots_[i] = 1;
    gradient_points_.push_back(i);
  }
}

void HookSet::cache_all(bool include_opt_in) {
  for (const auto& name : formats::hook_point_names(config_, include_opt_in)) cache(ref(name));
}

at::Tensor HookSet::apply(HookKind kind, int layer, at::Tensor x) {
  const size_t i = slot(kind, layer);
  const HookPointSpec& spec = hook_point_spec(kind);
  std::string name = formats::hook_point_name(kind, layer);
  for (const Action& action : actions_[i]) {
    switch (action.op) {
      case HookOp::Cache:
        caches_[name] = action.selection.all() ? x : select_slice(x, spec, action.selection, position_offset_);
        break;
      case HookOp::Call:
        x = action.function(x, HookContext{kind, layer, name, position_offset_});
        break;
      default:
        x = apply_on_selection(x, spec, action.selection, action.op, action.value, action.factor,
                               position_offset_);
    }
  }
  if (gradient_slots_[i]) {
    // A zero leaf added to the activation: its gradient is the activation's, and the graph
    // through the activation stays whole (gradients at earlier points still see every path).
    at::Tensor delta = at::zeros_like(x).requires_grad_(true);
    gradient_leaves_[name] = delta;
    x = x + delta;
  }
  return x;
}

const at::Tensor& HookSet::cached(std::string_view name) const {
  auto it = caches_.find(std::string(name));
  if (it == caches_.end())
    throw std::invalid_argument("hook point '" + std::string(name) + "' was not cached");
  return it->second;
}

std::map<std::string, at::Tensor> HookSet::gradients() const {
  std::map<std::string, at::Tensor> out;
  for (const auto& [name, leaf] : gradient_leaves_) out[name] = leaf.grad();
  return out;
}

at::Tensor HookSet::gradient(std::string_view name) const {
  auto it = gradient_leaves_.find(std::string(name));
  if (it == gradient_leaves_.end())
    throw std::invalid_argument("no gradient was requested at '" + std::string(name) + "'");
  if (!it->second.grad().defined())
    throw std::invalid_argument("gradient at '" + std::string(name) +
                                "' is not available yet: call backward() on a metric first");
  return it->second.grad();
}

void HookSet::clear_results() {
  caches_.clear();
  gradient_leaves_.clear();
}

at::Tensor apply_on_selection(const at::Tensor& x, const HookPointSpec& spec,
                              const Selection& selection, HookOp op, const at::Tensor& value,
                              double factor, std::int64_t position_offset) {
  at::Tensor v = value;
  // A value from a full run (every column) patched into a resumed one: keep the computed columns.
  if (position_offset > 0 && v.defined() && spec.pos_axis >= 0 && v.dim() == x.dim() &&
      v.size(spec.pos_axis) == x.size(spec.pos_axis) + position_offset)
    v = v.narrow(spec.pos_axis, position_offset, x.size(spec.pos_axis));
  at::Tensor changed;
  switch (op) {
    case HookOp::Replace: changed = v.to(x.device(), x.scalar_type()).expand_as(x); break;
    case HookOp::Add: changed = x + v.to(x.device(), x.scalar_type()); break;
    case HookOp::Scale: changed = x * factor; break;
    default: return x;
  }
  if (selection.all()) return op == HookOp::Replace ? changed.clone() : changed;
  return at::where(selection_mask(x, spec, selection, position_offset), changed, x);
}

at::Tensor select_slice(const at::Tensor& x, const HookPointSpec& spec, const Selection& sel,
                        std::int64_t position_offset) {
  at::Tensor out = x;
  auto take = [&](int axis, const std::vector<std::int64_t>& indices) {
    if (indices.empty() || axis < 0) return;
    const std::int64_t n = x.size(axis);
    std::vector<std::int64_t> fixed;
    for (std::int64_t i : indices) fixed.push_back(i < 0 ? i + n : i);
    out = out.index_select(axis, at::tensor(fixed, at::kLong).to(x.device()));
  };
  take(0, sel.batch);
  if (spec.pos_axis >= 0 && !sel.positions.empty())
    take(spec.pos_axis, shifted_positions(sel.positions, x.size(spec.pos_axis), position_offset));
  take(spec.head_axis, sel.heads);
  take(spec.neuron_axis, sel.neurons);
  return out;
}

}  // namespace circuit::rt
