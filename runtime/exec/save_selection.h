// The part of a saved activation that a plan::Save's selection asks to report: pass rows, each
// row's prompt positions (mapped to its padded columns), heads and neurons. Part of the
// runtime's execute stage (the pass runner's output saves).
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

#include "compiler/plan/hook_plan.h"
#include "runtime/exec/row_layout.h"
#include "runtime/formats/hook_point_table.h"

namespace circuit::rt {

// `activation` is [pass rows, ...] over every padded column. With positions selected, each
// row's positions take the position axis in the order listed, so every row must select as many
// (std::invalid_argument naming `where` otherwise).
at::Tensor select_saved(const at::Tensor& activation, const formats::HookPointSpec& spec,
                        const plan::Selection& select, const RowLayout& layout, const std::string& where);

}  // namespace circuit::rt
