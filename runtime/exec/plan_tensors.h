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
// A float32 CPU copy.
plan::Tensor to_plan_tensor(const at::Tensor& tensor);
// A float32 tensor on the CPU (callers move it to the model's device and dtype).
at::Tensor to_at_tensor(const plan::Tensor& tensor);

}  // namespace circuit::rt
