#include "runtime/exec/save_selection.h"

#include <ATen/ATen.h>

#include <stdexcept>

namespace circuit::rt {
namespace {

at::Tensor long_tensor(const std::vector<std::int64_t>& v, const at::Device& device) {
  return at::tensor(v, at::kLong).to(device);
}

}  // namespace

at::Tensor select_saved(const at::Tensor& activation, const formats::HookPointSpec& spec,
                        const plan::Selection& select, const RowLayout& layout, const std::string& where) {
  at::Tensor x = activation;
  const at::Device device = x.device();
  if (!select.positions.all()) {
    const std::int64_t n = layout.rows();
    std::vector<std::int64_t> columns;
    std::int64_t per_row = -1;
    for (std::int64_t t = 0; t < n; ++t) {
      const std::vector<int>& list = select.positions.per_row.empty()
                                         ? select.positions.index
                                         : select.positions.per_row.at(static_cast<size_t>(layout.batch_rows[t]));
      if (per_row >= 0 && static_cast<std::int64_t>(list.size()) != per_row)
        throw std::invalid_argument(where + ": rows select different numbers of positions");
      per_row = static_cast<std::int64_t>(list.size());
      for (int p : list) {
        const std::int64_t i = p < 0 ? layout.lengths[t] + p : p;
        if (i < 0 || i >= layout.lengths[t])
          throw std::invalid_argument(where + ": position " + std::to_string(p) + " is outside row " +
                                      std::to_string(t) + " (" + std::to_string(layout.lengths[t]) + " tokens)");
        columns.push_back(layout.starts[t] + i);
      }
    }
    at::Tensor by_pos = x.movedim(spec.pos_axis, 1);
    std::vector<std::int64_t> view(by_pos.dim(), 1), expand(by_pos.sizes().begin(), by_pos.sizes().end());
    view[0] = n;
    view[1] = per_row;
    expand[1] = per_row;
    x = by_pos.gather(1, long_tensor(columns, device).view(view).expand(expand)).movedim(1, spec.pos_axis);
  }
  if (!select.rows.empty()) x = x.index_select(0, long_tensor({select.rows.begin(), select.rows.end()}, device));
  if (!select.heads.empty() && spec.head_axis >= 0)
    x = x.index_select(spec.head_axis, long_tensor({select.heads.begin(), select.heads.end()}, device));
  if (!select.neurons.empty()) {
    const int axis = spec.neuron_axis >= 0 ? spec.neuron_axis : static_cast<int>(x.dim()) - 1;
    x = x.index_select(axis, long_tensor({select.neurons.begin(), select.neurons.end()}, device));
  }
  return x;
}

}  // namespace circuit::rt
