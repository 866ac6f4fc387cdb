// Every action is computed as a whole "changed" activation and merged with the original through
// one boolean mask (rows x columns, heads, neurons), so selections of any shape cost one where().
#include "runtime/exec/intervention_hooks.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <memory>
#include <set>
#include <stdexcept>

#include "runtime/hooks/hook_set.h"

namespace circuit::rt {
namespace {

using formats::HookPointSpec;

// The axis `neurons` indexes: the neuron axis, else the last one (as the validator reads it).
int neuron_axis(const HookPointSpec& spec, const at::Tensor& x) {
  return spec.neuron_axis >= 0 ? spec.neuron_axis : static_cast<int>(x.dim()) - 1;
}

at::Tensor index_tensor(const std::vector<int>& indices, const at::Device& device) {
  std::vector<std::int64_t> wide(indices.begin(), indices.end());
  return at::tensor(wide, at::kLong).to(device);
}

// A [n] bool vector placed on `axis` of an x-shaped broadcast.
at::Tensor axis_mask(const at::Tensor& x, int axis, const std::vector<int>& indices) {
  const std::int64_t n = x.size(axis);
  auto flags = at::zeros({n}, at::kBool);
  for (int i : indices) flags[i] = true;
  std::vector<std::int64_t> shape(x.dim(), 1);
  shape[axis] = n;
  return flags.view(shape).to(x.device());
}

// Rows x columns the selection covers in this forward ([n, width] bool), undefined for all.
at::Tensor row_position_mask(const plan::Selection& select, const ForwardRows& rows, std::int64_t width) {
  const RowLayout& layout = rows.layout;
  const std::int64_t n = layout.rows();
  if (select.rows.empty() && select.positions.all()) return {};
  const std::set<int> wanted(select.rows.begin(), select.rows.end());
  auto mask = at::zeros({n, width}, at::kBool);
  auto m = mask.accessor<bool, 2>();
  const std::int64_t offset = layout.seq - width;
  for (std::int64_t t = 0; t < n; ++t) {
    if (!wanted.empty() && !wanted.count(static_cast<int>(rows.first_pass_row + t))) continue;
    if (select.positions.all()) {
      for (std::int64_t c = 0; c < width; ++c) m[t][c] = true;
      continue;
    }
    const std::int64_t b = layout.batch_rows[t];
    const std::vector<int>& list = select.positions.per_row.empty()
                                       ? select.positions.index
                                       : select.positions.per_row.at(static_cast<size_t>(b));
    for (int p : list) {
      const std::int64_t i = p < 0 ? layout.lengths[t] + p : p;
      if (i < 0 || i >= layout.lengths[t]) continue;
      const std::int64_t c = layout.starts[t] + i - offset;
      if (c >= 0 && c < width) m[t][c] = true;
    }
  }
  return mask;
}

// [n, width] on dim 0 and the position axis of an x-shaped broadcast.
at::Tensor place_rows_positions(const at::Tensor& mask, const at::Tensor& x, int pos_axis) {
  std::vector<std::int64_t> shape(x.dim(), 1);
  shape[0] = mask.size(0);
  shape[pos_axis] = mask.size(1);
  if (pos_axis == 0) throw std::logic_error("a hook point's position axis cannot be its batch axis");
  return mask.to(x.device()).view(shape);
}

// `value` broadcast against the selected slice (heads and neurons picked) and put back in place
// in an x-shaped tensor (zero elsewhere: the mask keeps x there).
at::Tensor value_in_place(const at::Tensor& x, const HookPointSpec& spec, const plan::Selection& select,
                          const at::Tensor& value) {
  at::Tensor v = value.to(x.device(), x.scalar_type());
  const bool heads = !select.heads.empty() && spec.head_axis >= 0;
  const bool neurons = !select.neurons.empty();
  if (!heads && !neurons) return v.expand_as(x);
  std::vector<std::int64_t> shape(x.sizes().begin(), x.sizes().end());
  const int n_axis = neuron_axis(spec, x);
  if (heads) shape[spec.head_axis] = static_cast<std::int64_t>(select.heads.size());
  if (neurons) shape[n_axis] = static_cast<std::int64_t>(select.neurons.size());
  at::Tensor slice = v.expand(shape).contiguous();
  if (neurons) {
    std::vector<std::int64_t> wider = shape;
    wider[n_axis] = x.size(n_axis);
    slice = at::zeros(wider, x.options()).index_copy_(n_axis, index_tensor(select.neurons, x.device()), slice);
  }
  if (heads)
    slice = at::zeros(x.sizes(), x.options()).index_copy_(spec.head_axis, index_tensor(select.heads, x.device()), slice);
  return slice;
}

struct Source {
  const SavedPass* pass = nullptr;
  const at::Tensor* activation = nullptr;
};

Source find_source(const plan::Intervention& in, const SavedPasses& saved, const std::string& where) {
  auto it = saved.find(in.source_pass);
  if (in.source_pass.empty() || it == saved.end())
    throw std::invalid_argument(where + ": source pass '" + in.source_pass + "' has not run");
  auto act = it->second.activations.find(in.hook);
  if (act == it->second.activations.end())
    throw std::invalid_argument(where + ": source pass '" + in.source_pass + "' did not save '" + in.hook + "'");
  return Source{&it->second, &act->second};
}

// The source row holding each forward row's prompt.
std::vector<std::int64_t> rows_by_batch_row(const Source& source, const ForwardRows& rows,
                                            const std::string& where) {
  std::vector<std::int64_t> picks(rows.layout.rows());
  for (std::int64_t t = 0; t < rows.layout.rows(); ++t) {
    picks[t] = source.pass->rows.row_holding(rows.layout.batch_rows[t]);
    if (picks[t] < 0)
      throw std::invalid_argument(where + ": source pass does not run batch row " +
                                  std::to_string(rows.layout.batch_rows[t]));
  }
  return picks;
}

// What the action sets the activation to, before masking; `valid` narrows the mask where a
// source row lacks some of the target's tokens.
at::Tensor changed_activation(const at::Tensor& x, const HookPointSpec& spec, const plan::Intervention& in,
                              const at::Tensor& value, const Source& source, const ForwardRows& rows,
                              const std::string& where, at::Tensor& valid) {
  const int pos_axis = spec.pos_axis;
  const std::int64_t width = x.size(pos_axis);
  switch (in.action) {
    case plan::Action::Zero: return at::zeros_like(x);
    case plan::Action::Scale: return x * in.factor;
    case plan::Action::Replace: return value_in_place(x, spec, in.select, value);
    case plan::Action::Add: return x + value_in_place(x, spec, in.select, value);
    case plan::Action::PatchFrom:
    case plan::Action::Freeze: {
      AlignedSource a = align_source(*source.activation, source.pass->rows,
                                     rows_by_batch_row(source, rows, where), rows.layout, pos_axis, width);
      valid = a.valid;
      return a.values;
    }
    case plan::Action::MeanAblate: {
      if (in.mean_over_positions)
        return mean_over_rows(*source.activation, source.pass->rows, pos_axis, true).expand_as(x);
      at::Tensor mean = mean_over_rows(*source.activation, source.pass->rows, pos_axis, false);
      std::vector<std::int64_t> picks(rows.layout.rows(), 0);
      AlignedSource a = align_source(mean, mean_layout(source.pass->rows), picks, rows.layout, pos_axis, width);
      valid = a.valid;
      return a.values;
    }
    case plan::Action::ResampleAblate: {
      std::vector<std::int64_t> picks(rows.layout.rows());
      for (std::int64_t t = 0; t < rows.layout.rows(); ++t)
        picks[t] = resample_pick(in.seed, rows.first_pass_row + t, source.pass->rows.rows());
      AlignedSource a = align_source(*source.activation, source.pass->rows, picks, rows.layout, pos_axis, width);
      valid = a.valid;
      return a.values;
    }
  }
  throw std::invalid_argument(where + ": unknown action");
}

}  // namespace

std::int64_t resample_pick(std::uint64_t seed, std::int64_t row, std::int64_t count) {
  // splitmix64 of (seed, row): well mixed, and the same for a row wherever it lands.
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * (static_cast<std::uint64_t>(row) + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<std::int64_t>(z % static_cast<std::uint64_t>(count));
}

void add_intervention(HookSet& hooks, const plan::Intervention& in, const ForwardRows& rows,
                      const SavedPasses& saved, const std::string& where) {
  HookPointRef ref = [&] {
    try {
      return hooks.ref(in.hook);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(where + ": " + e.what());
    }
  }();
  const HookPointSpec& spec = formats::hook_point_spec(ref.kind);
  Source source;
  const bool reads_source = in.action == plan::Action::PatchFrom || in.action == plan::Action::Freeze ||
                            in.action == plan::Action::MeanAblate || in.action == plan::Action::ResampleAblate;
  if (reads_source) source = find_source(in, saved, where);
  at::Tensor value;
  if (in.action == plan::Action::Replace || in.action == plan::Action::Add) {
    std::int64_t n = 1;
    for (std::int64_t d : in.value.shape) n *= d;
    if (n != static_cast<std::int64_t>(in.value.data.size()) || in.value.data.empty())
      throw std::invalid_argument(where + ": the value's shape does not match its data");
    value = at::tensor(at::ArrayRef<float>(in.value.data), at::kFloat).reshape(in.value.shape);
  }
  // The lambda owns copies: the HookSet outlives this call's arguments.
  auto intervention = std::make_shared<plan::Intervention>(in);
  auto forward_rows = std::make_shared<ForwardRows>(rows);
  const HookPointSpec* spec_ptr = &spec;
  hooks.call(ref, [intervention, forward_rows, value, source, spec_ptr, where](const at::Tensor& x,
                                                                             const HookContext&) {
    const HookPointSpec& spec = *spec_ptr;
    const plan::Intervention& in = *intervention;
    const ForwardRows& rows = *forward_rows;
    if (x.size(0) != rows.layout.rows())
      throw std::logic_error(where + ": the forward's rows do not match its layout");
    at::Tensor valid;
    at::Tensor changed = changed_activation(x, spec, in, value, source, rows, where, valid);
    const std::int64_t width = x.size(spec.pos_axis);
    at::Tensor mask = row_position_mask(in.select, rows, width);
    if (valid.defined()) mask = mask.defined() ? mask.logical_and(valid.cpu()) : valid.cpu();
    at::Tensor full;
    if (mask.defined()) full = place_rows_positions(mask, x, spec.pos_axis);
    auto restrict = [&](int axis, const std::vector<int>& indices) {
      if (indices.empty() || axis < 0) return;
      at::Tensor m = axis_mask(x, axis, indices);
      full = full.defined() ? full.logical_and(m) : m;
    };
    restrict(spec.head_axis, in.select.heads);
    restrict(neuron_axis(spec, x), in.select.neurons);
    if (!full.defined()) return changed.expand_as(x).contiguous();
    return at::where(full, changed, x);
  });
}

}  // namespace circuit::rt
