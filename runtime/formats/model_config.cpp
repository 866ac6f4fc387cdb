#include "runtime/formats/model_config.h"

namespace circuit::formats {

const char* family_name(Family family) {
  switch (family) {
    case Family::Gpt2: return "gpt2";
    case Family::Llama: return "llama";
    case Family::GptNeoX: return "gpt-neox";
    case Family::AttnOnly: return "attn-only";
  }
  return "unknown";
}

}  // namespace circuit::formats
