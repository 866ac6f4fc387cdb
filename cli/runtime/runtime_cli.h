// Shared pieces of the runtime's commands (models, inspect, predict, generate, cache): the
// --device/--dtype/--threads/--json options, and loading a model with its tokenizer.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/formats/model_source.h"
#include "runtime/model/hooked_model.h"
#include "runtime/model/runtime_options.h"
#include "runtime/tokenizer/tokenizer.h"

namespace CLI {
class App;
}

namespace circuit::cli {

struct RuntimeFlags {
  rt::RuntimeOptions runtime;
  bool json = false;
};

// Adds --device, --dtype, --threads and --json to a subcommand.
void add_runtime_flags(CLI::App& command, RuntimeFlags& flags);

// The models folder ($CIRCUIT_MODELS or <source>/models).
std::string models_dir();
formats::ModelSource resolve_model_arg(const std::string& arg);

struct LoadedModel {
  formats::ModelSource source;
  rt::HookedModel model;
  std::shared_ptr<tok::Tokenizer> tokenizer;  // null when the model has none
};

// Resolves, sets the thread count and loads the weights (and the tokenizer when `tokenizer`).
LoadedModel load_model(const std::string& arg, const RuntimeFlags& flags, bool tokenizer = true);

// Token ids of a prompt (with the tokenizer's special prefix, e.g. BOS).
std::vector<std::int64_t> encode_prompt(const LoadedModel& loaded, const std::string& prompt);

// Runs a command body, turning libtorch's errors (which carry a C++ backtrace) into one line.
void run_reporting_torch_errors(const std::function<void()>& body);

// "1,2,3" -> ids (std::invalid_argument on anything else).
std::vector<std::int64_t> parse_token_list(const std::string& text);

// A token's text for display, JSON-escaped by the caller when needed.
std::string token_display(const LoadedModel& loaded, std::int64_t id);

}  // namespace circuit::cli
