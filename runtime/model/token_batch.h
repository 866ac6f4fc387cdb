// TokenBatch: prompts of different lengths as one padded [batch, seq] tensor with the
// attention mask and position ids that make each row compute what it would alone. Part of
// the runtime's model stage. Left padding is the default so that position -1 is every
// prompt's last token.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "runtime/formats/model_config.h"

namespace circuit::rt {

enum class PadSide { Left, Right };

struct TokenBatch {
  at::Tensor tokens;          // [batch, seq] int64
  at::Tensor attention_mask;  // [batch, seq] bool, true = real token; undefined when unpadded
  at::Tensor positions;       // [batch, seq] int64 position ids (0 at each prompt's first token)
  std::vector<std::int64_t> lengths;  // real tokens per row
  PadSide side = PadSide::Left;

  std::int64_t batch() const { return tokens.size(0); }
  std::int64_t seq() const { return tokens.size(1); }
  bool padded() const { return attention_mask.defined(); }
  // Index of prompt `row`'s token `i` (0-based within the prompt) in the padded sequence.
  std::int64_t column(std::int64_t row, std::int64_t i) const;
};

// Pads `prompts` to the longest one. Throws std::invalid_argument for an empty batch or
// prompt, a token id outside the vocabulary, or a prompt longer than config.n_ctx.
TokenBatch make_token_batch(const std::vector<std::vector<std::int64_t>>& prompts,
                            const formats::ModelConfig& config, PadSide side = PadSide::Left);

// A batch from a [batch, seq] token tensor with no padding.
TokenBatch make_token_batch(const at::Tensor& tokens, const formats::ModelConfig& config);

}  // namespace circuit::rt
