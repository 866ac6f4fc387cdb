// Conversions between the plan's plain data and libtorch: a plan TokenBatch to a padded
// runtime TokenBatch, plan::Tensor to and from at::Tensor. Part of the runtime's execute stage,
// shared by the executor and the analyses.
#pragma once

#include <cstdint>
#include <vector>

#include "compiler/plan/hook_plan.h"
#include "runtime/formats/model_config.h"

namespace at {
class Tensor;
}

namespace circuit::rt {

struct TokenBatch;

// Pads on the batch's side; `rows` picks and orders batch rows (empty: all, in order).
TokenBatch to_token_batch(const plan::TokenBatch& batch, const formats::ModelConfig& config,
                          const std::vector<std::int64_t>& rows = {});
// Rows of an already padded batch, keeping its width and padding: every forward over one plan
// batch then shares the columns of the whole batch, so one batch row's token i is at the same
// column in each of them (sources, caches and metrics rely on it).
TokenBatch select_rows(const TokenBatch& batch, const std::vector<std::int64_t>& rows);
// The batch row of each of the pass's rows (its virtual batch: row t holds batch row
// (row_offset + t) mod N).
std::vector<std::int64_t> pass_batch_rows(const plan::HookPlan& plan, const plan::Pass& pass);
// A float32 CPU copy.
plan::Tensor to_plan_tensor(const at::Tensor& tensor);
// A float32 tensor on the CPU (callers move it to the model's device and dtype).
at::Tensor to_at_tensor(const plan::Tensor& tensor);

}  // namespace circuit::rt
