// Fuzz target for the safetensors readers: parse the input as a .safetensors file and touch
// every tensor's bytes; when it looks like JSON, also parse it as a model.safetensors.index.json.
// Bad input must end in FormatError, never in a crash or an out-of-bounds read.
#include <cstddef>
#include <cstdint>

#include "runtime/formats/format_error.h"
#include "runtime/formats/safetensors_reader.h"

using namespace circuit::formats;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  volatile uint64_t sink = 0;
  try {
    const SafetensorsFile f = SafetensorsFile::parse({data, size}, "fuzz.safetensors");
    for (const SafetensorsTensor& t : f.tensors()) {
      uint64_t elements = 1;
      for (int64_t d : t.shape) elements *= static_cast<uint64_t>(d);
      if (elements * safetensors_dtype_size(t.dtype) != t.data.size()) __builtin_trap();
      for (uint8_t b : t.data) sink = sink + b;
    }
    for (const auto& [k, v] : f.metadata()) sink = sink + k.size() + v.size();
  } catch (const FormatError&) {
  }
  if (size > 0 && data[0] == '{') {
    try {
      const SafetensorsIndex index = parse_safetensors_index({data, size}, "fuzz.index.json");
      sink = sink + index.weight_map.size() + index.shards.size();
    } catch (const FormatError&) {
    }
  }
  return 0;
}
