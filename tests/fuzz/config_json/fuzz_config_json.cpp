// Fuzz target for the config.json reader: arbitrary bytes are parsed as JSON and read as a
// Hugging Face config (gpt2, llama, qwen2, gpt_neox, circuitry-attn-only). Bad input must end in
// FormatError; a config that is accepted must describe a model that can be built (positive
// sizes, whole heads, finite positive epsilons and RoPE bases), or the reader let it through.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "runtime/formats/config_reader.h"
#include "runtime/formats/format_error.h"

using namespace circuit::formats;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto doc = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return 0;
  ModelConfig c;
  try {
    c = config_from_hf_json(doc, "fuzz/config.json");
  } catch (const FormatError&) {
    return 0;
  }
  const bool sizes_ok = c.n_layers > 0 && c.d_model > 0 && c.n_heads > 0 && c.n_kv_heads > 0 && c.d_head > 0 &&
                        c.d_vocab > 0 && c.n_ctx > 0 && c.n_heads % c.n_kv_heads == 0 &&
                        (c.mlp == MlpKind::None || c.d_mlp > 0);
  const bool eps_ok = c.norm == NormKind::None || (std::isfinite(c.norm_eps) && c.norm_eps > 0.0f);
  const bool rope_ok = c.positions != PositionKind::Rotary || (std::isfinite(c.rope_theta) && c.rope_theta > 0.0f);
  const bool tokens_ok = c.bos_token_id < c.d_vocab;
  if (!sizes_ok || !eps_ok || !rope_ok || !tokens_ok) std::abort();
  return 0;
}
