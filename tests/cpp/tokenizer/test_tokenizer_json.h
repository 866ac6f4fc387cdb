// Builds small byte-level tokenizer.json documents for the tokenizer unit tests.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

#include "runtime/tokenizer/byte_level.h"

namespace circuit::tok::testing {

// A byte-level BPE tokenizer: ids 0..255 are the bytes, then one token per merge (given as raw
// byte strings, e.g. {" ", "M"}), then the added tokens.
inline nlohmann::json byte_level_doc(const std::vector<std::pair<std::string, std::string>>& merges,
                                     const std::vector<std::string>& specials = {}) {
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) vocab[bytes_to_mapped(std::string(1, static_cast<char>(b)))] = b;
  nlohmann::json merge_list = nlohmann::json::array();
  int next = 256;
  for (const auto& [a, b] : merges) {
    const std::string ma = bytes_to_mapped(a), mb = bytes_to_mapped(b);
    merge_list.push_back(ma + " " + mb);
    if (!vocab.contains(ma + mb)) vocab[ma + mb] = next++;
  }
  nlohmann::json added = nlohmann::json::array();
  for (const std::string& s : specials) {
    added.push_back({{"id", next++}, {"content", s}, {"special", true}, {"normalized", false},
                     {"lstrip", false}, {"rstrip", false}, {"single_word", false}});
  }
  return {{"version", "1.0"},
          {"added_tokens", added},
          {"normalizer", nullptr},
          {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
          {"post_processor", nullptr},
          {"decoder", {{"type", "ByteLevel"}}},
          {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merge_list}}}};
}

}  // namespace circuit::tok::testing
