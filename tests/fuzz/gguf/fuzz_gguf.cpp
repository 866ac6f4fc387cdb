// Fuzz target for the GGUF reader: parse from memory, read every metadata value and every
// tensor's bytes, dequantize the small tensors, and derive a ModelConfig. Bad input must end
// in FormatError, never in a crash or an out-of-bounds read.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/formats/config_reader.h"
#include "runtime/formats/format_error.h"
#include "runtime/formats/gguf_reader.h"

using namespace circuit::formats;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const GgufFile g = GgufFile::parse({data, size}, "fuzz.gguf");
    volatile uint64_t sink = 0;
    for (const GgufKeyValue& kv : g.metadata()) {
      sink = sink + kv.key.size() + kv.value.array_size() + kv.value.s.size();
      try {
        (void)g.get_int_array(kv.key);
      } catch (const FormatError&) {
      }
    }
    std::vector<float> out;
    for (const GgufTensorInfo& t : g.tensors()) {
      for (uint8_t b : g.tensor_data(t)) sink = sink + b;
      if (ggml_type_dequantizable(t.type) && t.n_elements <= (1u << 16)) {
        out.resize(t.n_elements);
        dequantize(t.type, g.tensor_data(t), out, t.name);
      }
    }
    (void)config_from_gguf(g);
  } catch (const FormatError&) {
  }
  return 0;
}
