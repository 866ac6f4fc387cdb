// RuntimeOptions: where and how a model runs (device, dtype, intra-op threads), as plain
// strings that the CLI and the server pass through. Part of the runtime's model stage.
#pragma once

#include <string>

namespace circuit::rt {

struct RuntimeOptions {
  std::string device = "cpu";     // "cpu", "cuda", "cuda:1"
  std::string dtype = "float32";  // "float32" | "fp32", "bfloat16" | "bf16", "float16" | "fp16"
  int threads = 0;                // intra-op threads; 0 = the number of cores
};

// Checks the device and dtype names (std::invalid_argument with a one-line message naming the
// valid choices, or saying that CUDA is not available).
void validate_runtime_options(const RuntimeOptions& options);

// Sets libtorch's intra-op thread count (0 = the number of cores). Deliberate: libtorch's
// default can oversubscribe when several processes share a machine.
void apply_thread_count(int threads);

}  // namespace circuit::rt
