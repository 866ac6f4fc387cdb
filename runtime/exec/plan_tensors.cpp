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

TokenBatch select_rows(const TokenBatch& batch, const std::vector<std::int64_t>& rows) {
  if (rows.empty()) throw std::invalid_argument("no rows to run");
  at::Tensor index = at::tensor(rows, at::kLong);
  TokenBatch out;
  out.side = batch.side;
  out.tokens = batch.tokens.index_select(0, index);
  out.positions = batch.positions.index_select(0, index);
  if (batch.padded()) out.attention_mask = batch.attention_mask.index_select(0, index);
  for (std::int64_t r : rows) out.lengths.push_back(batch.lengths.at(r));
  return out;
}

std::vector<std::int64_t> pass_batch_rows(const plan::HookPlan& plan, const plan::Pass& pass) {
  const plan::TokenBatch* batch = plan::find_batch(plan, pass.batch);
  if (!batch || batch->rows.empty())
    throw std::invalid_argument("pass '" + pass.name + "': no rows in batch '" + pass.batch + "'");
  const std::int64_t n = static_cast<std::int64_t>(batch->rows.size());
  const std::int64_t rows = plan::pass_row_count(plan, pass);
  std::vector<std::int64_t> out(rows);
  for (std::int64_t t = 0; t < rows; ++t) out[t] = ((pass.row_offset + t) % n + n) % n;
  return out;
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
