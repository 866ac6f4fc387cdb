// Unicode NFC normalisation for the tokenizer stage (Qwen2-style tokenizers ask for it):
// canonical decomposition, canonical ordering, canonical composition, from generated tables.
#pragma once

#include <string>
#include <string_view>

namespace circuit::tok {

// NFC of UTF-8 `text`. Invalid byte sequences are kept as they are and block composition.
std::string nfc(std::string_view text);

}  // namespace circuit::tok
