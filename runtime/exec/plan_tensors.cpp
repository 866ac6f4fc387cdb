#include "runtime/exec/plan_tensors.h"

#include <ATen/ATen.h>

#include <stdexcept>
#include <string>

#include "runtime/model/token_batch.h"

namespace circuit::rt {

TokenBatch to_token_batch(const plan::TokenBatch& batch, const formats::ModelConfig& config,
                          const std::vector<std::int64_t>& rows) {
  std::vector<std::vector<std::int64_t>> prompts;
  auto add = [&](std::int64_t r) {
    if (r < 0 || r >= static_cast<std::int64_t>(batch.rows.size()))
      throw std::invalid_argument("batch '" + batch.name + "': row " + std::to_string(r) + " out of range");
    prompts.emplace_back(batch.rows[r].begin(), batch.rows[r].end());
  };
  if (rows.empty()) {
    for (size_t r = 0; r < batch.rows.size(); ++r) add(static_cast<std::int64_t>(r));
  } else {
    for (std::int64_t r : rows) add(r);
  }
  try {
    return make_token_batch(prompts, config, batch.pad_side == plan::PadSide::Left ? PadSide::Left : PadSide::Right);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("batch '" + batch.name + "': " + e.what());
  }
}

plan::Tensor to_plan_tensor(const at::Tensor& tensor) {
  at::Tensor t = tensor.detach().to(at::kCPU, at::kFloat).contiguous();
  plan::Tensor out;
  out.shape.assign(t.sizes().begin(), t.sizes().end());
  const float* p = t.data_ptr<float>();
  out.data.assign(p, p + t.numel());
  return out;
}

at::Tensor to_at_tensor(const plan::Tensor& tensor) {
  std::int64_t n = 1;
  for (std::int64_t d : tensor.shape) n *= d;
  if (n != static_cast<std::int64_t>(tensor.data.size()))
    throw std::invalid_argument("a tensor's shape does not match its " + std::to_string(tensor.data.size()) +
                                " elements");
  return at::tensor(at::ArrayRef<float>(tensor.data), at::kFloat).reshape(tensor.shape);
}

}  // namespace circuit::rt
