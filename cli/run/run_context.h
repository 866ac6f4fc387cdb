// RunContext: what the results layer needs to know about a run besides its numbers: the source
// file, the command, the model (files, config, how it ran) and a way to turn token ids back into
// text. Part of the run driver (cli/run); plain data, filled by `circuit run`/`circuit test`.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runtime/formats/model_source.h"

namespace circuit::cli::run {

struct RunContext {
  std::string source_path;  // the .circuit file as named on the command line
  std::string command;      // the command line, for provenance
  formats::ModelSource model;
  std::string device = "cpu";
  std::string dtype = "float32";
  // Token ids -> text without special tokens; empty when the model has no tokenizer.
  std::function<std::string(const std::vector<std::int32_t>&)> decode;
  // One token id -> its text as the model's vocabulary spells it, special tokens included
  // ("<|bos|>"): the labels of attention patterns. Empty when the model has no tokenizer.
  std::function<std::string(std::int32_t)> token_text;
};

}  // namespace circuit::cli::run
