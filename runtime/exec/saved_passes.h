// SavedPass: what a finished pass leaves behind for the passes that read it (the activations at
// its saved hook points, its logits by batch row for kl metrics, its PrefixCache for resumed
// forwards), and when each of those can be let go. Part of the runtime's execute stage.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <string>

#include "runtime/exec/row_layout.h"

namespace circuit::rt {

class PrefixCache;

struct SavedPass {
  RowLayout rows;                                  // the pass's rows
  std::map<std::string, at::Tensor> activations;  // hook -> [pass rows, ...], every column
  at::Tensor logits;           // [batch rows, columns, d_vocab] by batch row (kl references)
  std::shared_ptr<const PrefixCache> cache;  // set when a later pass resumes from this one
};

using SavedPasses = std::map<std::string, SavedPass>;

}  // namespace circuit::rt
