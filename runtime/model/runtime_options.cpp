#include "runtime/model/runtime_options.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <stdexcept>
#include <thread>

#include "runtime/model/torch_options.h"

namespace circuit::rt {

c10::ScalarType parse_dtype(const std::string& name) {
  if (name == "float32" || name == "fp32" || name == "float") return c10::kFloat;
  if (name == "bfloat16" || name == "bf16") return c10::kBFloat16;
  if (name == "float16" || name == "fp16" || name == "half") return c10::kHalf;
  throw std::invalid_argument("unknown dtype '" + name + "': use float32, bfloat16 or float16");
}

c10::Device parse_device(const std::string& name) {
  c10::Device device(c10::kCPU);
  try {
    device = c10::Device(name);
  } catch (const std::exception&) {
    throw std::invalid_argument("unknown device '" + name + "': use cpu, cuda or cuda:N");
  }
  if (!device.is_cpu() && !device.is_cuda())
    throw std::invalid_argument("unsupported device '" + name + "': use cpu, cuda or cuda:N");
  if (device.is_cuda() && !at::hasCUDA())
    throw std::invalid_argument("device '" + name +
                                "' is not available: this libtorch has no CUDA or no GPU is visible");
  return device;
}

void validate_runtime_options(const RuntimeOptions& options) {
  parse_dtype(options.dtype);
  parse_device(options.device);
  if (options.threads < 0) throw std::invalid_argument("--threads must be 0 (all cores) or more");
}

void apply_thread_count(int threads) {
  int n = threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  if (at::get_num_threads() != n) at::set_num_threads(n);
}

}  // namespace circuit::rt
