#include "runtime/formats/layer_names.h"

#include <limits>

#include "runtime/formats/format_error.h"

namespace circuit::formats {

std::optional<uint64_t> layer_of_weight(std::string_view name) {
  // Walk the dot-separated segments; a layer word followed by an all-digit segment is a layer.
  bool after_layer_word = false;
  size_t begin = 0;
  while (begin <= name.size()) {
    size_t end = name.find('.', begin);
    if (end == std::string_view::npos) end = name.size();
    const std::string_view segment = name.substr(begin, end - begin);
    if (after_layer_word && !segment.empty() && segment.find_first_not_of("0123456789") == std::string_view::npos) {
      uint64_t value = 0;
      for (char c : segment) {
        const uint64_t digit = static_cast<uint64_t>(c - '0');
        if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) return std::numeric_limits<uint64_t>::max();
        value = value * 10 + digit;
      }
      return value;
    }
    after_layer_word = segment == "layers" || segment == "h" || segment == "blocks" || segment == "blk";
    begin = end + 1;
  }
  return std::nullopt;
}

void check_no_extra_layers(const std::vector<std::string>& names, int n_layers, const std::string& count_key,
                           const std::string& where) {
  for (const std::string& name : names) {
    const auto layer = layer_of_weight(name);
    if (layer && *layer >= static_cast<uint64_t>(n_layers < 0 ? 0 : n_layers))
      throw FormatError(where, "tensor '" + name + "' is for layer " +
                                   (*layer == std::numeric_limits<uint64_t>::max() ? std::string("2^64 or more")
                                                                                  : std::to_string(*layer)) +
                                   ", but the config's " + count_key + " is " + std::to_string(n_layers) +
                                   " (layers 0 to " + std::to_string(n_layers - 1) + ")");
  }
}

}  // namespace circuit::formats
