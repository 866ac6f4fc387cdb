#include "runtime_cli.h"

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>

#include <cstdlib>
#include <stdexcept>

#include "runtime/tokenizer/load_tokenizer.h"

namespace circuit::cli {

void add_runtime_flags(CLI::App& command, RuntimeFlags& flags) {
  command.add_option("--device", flags.runtime.device, "cpu, cuda or cuda:N")->capture_default_str();
  command.add_option("--dtype", flags.runtime.dtype, "float32, bfloat16 or float16")->capture_default_str();
  command.add_option("--threads", flags.runtime.threads, "intra-op CPU threads (0 = all cores)")
      ->capture_default_str();
  command.add_flag("--json", flags.json, "print JSON");
}

std::string models_dir() { return formats::models_folder(CIRCUIT_SOURCE_DIR); }

formats::ModelSource resolve_model_arg(const std::string& arg) {
  return formats::resolve_model(arg, models_dir());
}

LoadedModel load_model(const std::string& arg, const RuntimeFlags& flags, bool tokenizer) {
  rt::validate_runtime_options(flags.runtime);
  rt::apply_thread_count(flags.runtime.threads);
  auto source = resolve_model_arg(arg);
  auto model = rt::HookedModel::load(source, flags.runtime);
  std::shared_ptr<tok::Tokenizer> tk;
  if (tokenizer) tk = std::make_shared<tok::Tokenizer>(tok::load_tokenizer(source));
  return LoadedModel{std::move(source), std::move(model), std::move(tk)};
}

std::vector<std::int64_t> encode_prompt(const LoadedModel& loaded, const std::string& prompt) {
  if (!loaded.tokenizer) throw std::invalid_argument("model '" + loaded.source.name + "' has no tokenizer");
  std::vector<std::int64_t> ids;
  for (int id : loaded.tokenizer->encode(prompt, true)) ids.push_back(id);
  const auto& c = loaded.model.config();
  if (c.add_bos && c.bos_token_id >= 0 && (ids.empty() || ids.front() != c.bos_token_id))
    ids.insert(ids.begin(), c.bos_token_id);
  if (ids.empty()) throw std::invalid_argument("prompt '" + prompt + "' encodes to no tokens");
  return ids;
}

void run_reporting_torch_errors(const std::function<void()>& body) {
  try {
    body();
  } catch (const c10::Error& e) {
    std::string message = e.what_without_backtrace();
    auto newline = message.find('\n');
    throw std::runtime_error(newline == std::string::npos ? message : message.substr(0, newline));
  }
}

std::vector<std::int64_t> parse_token_list(const std::string& text) {
  std::vector<std::int64_t> ids;
  size_t i = 0;
  while (i < text.size()) {
    size_t end = text.find(',', i);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(i, end - i);
    char* stop = nullptr;
    long long v = std::strtoll(item.c_str(), &stop, 10);
    if (item.empty() || *stop != '\0') throw std::invalid_argument("--tokens: '" + item + "' is not a token id");
    ids.push_back(v);
    i = end + 1;
  }
  if (ids.empty()) throw std::invalid_argument("--tokens: no token ids");
  return ids;
}

std::string token_display(const LoadedModel& loaded, std::int64_t id) {
  return loaded.tokenizer ? loaded.tokenizer->token_text(static_cast<int>(id)) : std::to_string(id);
}

}  // namespace circuit::cli
