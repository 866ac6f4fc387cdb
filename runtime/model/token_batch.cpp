#include "runtime/model/token_batch.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace circuit::rt {

std::int64_t TokenBatch::column(std::int64_t row, std::int64_t i) const {
  return side == PadSide::Left ? seq() - lengths.at(row) + i : i;
}

namespace {

void check_length(std::int64_t row, std::int64_t length, const formats::ModelConfig& config) {
  if (length == 0) throw std::invalid_argument("prompt " + std::to_string(row) + " is empty");
  if (config.n_ctx > 0 && length > config.n_ctx) {
    throw std::invalid_argument("prompt " + std::to_string(row) + " has " + std::to_string(length) +
                                " tokens, more than the model's context of " +
                                std::to_string(config.n_ctx));
  }
}

}  // namespace

TokenBatch make_token_batch(const std::vector<std::vector<std::int64_t>>& prompts,
                            const formats::ModelConfig& config, PadSide side) {
  if (prompts.empty()) throw std::invalid_argument("no prompts to run");
  std::int64_t seq = 0;
  for (size_t r = 0; r < prompts.size(); ++r) {
    check_length(static_cast<std::int64_t>(r), static_cast<std::int64_t>(prompts[r].size()), config);
    seq = std::max<std::int64_t>(seq, static_cast<std::int64_t>(prompts[r].size()));
  }
  const std::int64_t batch = static_cast<std::int64_t>(prompts.size());
  // Any id in the vocabulary pads (padding is masked); configs may name ids outside it.
  auto in_vocab = [&](int id) { return id >= 0 && (config.d_vocab <= 0 || id < config.d_vocab); };
  const std::int64_t pad = in_vocab(config.pad_token_id)   ? config.pad_token_id
                           : in_vocab(config.eos_token_id) ? config.eos_token_id
                                                           : 0;
  TokenBatch out;
  out.side = side;
  out.tokens = at::full({batch, seq}, pad, at::kLong);
  out.positions = at::zeros({batch, seq}, at::kLong);
  auto mask = at::zeros({batch, seq}, at::kBool);
  auto tok = out.tokens.accessor<std::int64_t, 2>();
  auto pos = out.positions.accessor<std::int64_t, 2>();
  auto msk = mask.accessor<bool, 2>();
  bool padded = false;
  for (std::int64_t r = 0; r < batch; ++r) {
    const auto& p = prompts[r];
    const std::int64_t n = static_cast<std::int64_t>(p.size());
    out.lengths.push_back(n);
    padded |= n != seq;
    const std::int64_t start = side == PadSide::Left ? seq - n : 0;
    for (std::int64_t i = 0; i < n; ++i) {
      if (p[i] < 0 || (config.d_vocab > 0 && p[i] >= config.d_vocab)) {
        throw std::invalid_argument("prompt " + std::to_string(r) + ": token id " +
                                    std::to_string(p[i]) + " outside the vocabulary 0.." +
                                    std::to_string(config.d_vocab - 1));
      }
      tok[r][start + i] = p[i];
      pos[r][start + i] = i;
      msk[r][start + i] = true;
    }
  }
  if (padded) out.attention_mask = mask;
  return out;
}

TokenBatch make_token_batch(const at::Tensor& tokens, const formats::ModelConfig& config) {
  if (tokens.dim() != 2) throw std::invalid_argument("tokens must be [batch, seq]");
  TokenBatch out;
  out.tokens = tokens.to(at::kLong);
  if (tokens.numel() > 0 && (out.tokens.min().item<std::int64_t>() < 0 ||
                             (config.d_vocab > 0 && out.tokens.max().item<std::int64_t>() >= config.d_vocab)))
    throw std::invalid_argument("token ids outside the vocabulary 0.." + std::to_string(config.d_vocab - 1));
  for (std::int64_t r = 0; r < tokens.size(0); ++r) {
    check_length(r, tokens.size(1), config);
    out.lengths.push_back(tokens.size(1));
  }
  out.positions = at::arange(tokens.size(1), out.tokens.options()).unsqueeze(0).expand_as(out.tokens);
  return out;
}

}  // namespace circuit::rt
