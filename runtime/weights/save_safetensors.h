// Writes named tensors to a .safetensors file (the Hugging Face layout the formats layer
// reads: 8-byte header length, JSON header, raw little-endian data), e.g. the caches of
// `circuit cache`. Part of the runtime's weights stage.
#pragma once

#include <map>
#include <string>

namespace at {
class Tensor;
}

namespace circuit::rt {

// Tensors go to the CPU and become contiguous; names are written sorted. `metadata` becomes
// the header's "__metadata__". Throws std::runtime_error naming the file when it cannot write.
void save_safetensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace circuit::rt
