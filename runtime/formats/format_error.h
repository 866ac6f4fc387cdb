// FormatError: the one exception type the libtorch-free readers (GGUF, safetensors,
// config.json, tokenizer files) throw for bad outside input. Its message is one line that
// names the file and the reason, so a command can print it and exit non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace circuit::formats {

class FormatError : public std::runtime_error {
 public:
  FormatError(const std::string& where, const std::string& reason)
      : std::runtime_error(where + ": " + reason), where_(where), reason_(reason) {}
  const std::string& where() const { return where_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string where_;
  std::string reason_;
};

}  // namespace circuit::formats
