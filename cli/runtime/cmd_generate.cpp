// `circuit generate MODEL --prompt T --max-tokens N`: greedy decoding, or sampling with
// --temperature / --top-p and a --seed, with a KV cache (HookedModel::extend).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "command_registry.h"
#include "runtime/model/hooked_model.h"
#include "runtime/model/token_batch.h"
#include "runtime_cli.h"

namespace circuit::cli {
namespace {

struct GenerateArgs {
  std::string model;
  std::string prompt;
  int max_tokens = 32;
  double temperature = 0.0;
  double top_p = 1.0;
  std::uint64_t seed = 0;
  RuntimeFlags flags;
};

// Next token from the last position's logits: argmax, or a sample from the nucleus.
int64_t choose(const at::Tensor& logits, const GenerateArgs& a, at::Generator& gen) {
  if (a.temperature <= 0) return logits.argmax().item<int64_t>();
  auto probs = at::softmax(logits / a.temperature, -1);
  auto [sorted, order] = probs.sort(-1, true);
  auto cumulative = sorted.cumsum(-1);
  // Keep the smallest prefix whose mass reaches top_p (always at least one token).
  auto drop = (cumulative - sorted) >= a.top_p;
  sorted = sorted.masked_fill(drop, 0.0);
  auto pick = at::multinomial(sorted, 1, false, gen).item<int64_t>();
  return order[pick].item<int64_t>();
}

void run_generate(const GenerateArgs& a) {
  if (a.max_tokens < 0) throw std::invalid_argument("--max-tokens must be 0 or more");
  if (a.top_p <= 0 || a.top_p > 1) throw std::invalid_argument("--top-p must be in (0, 1]");
  auto loaded = load_model(a.model, a.flags);
  const auto& c = loaded.model.config();
  auto ids = encode_prompt(loaded, a.prompt);
  const size_t prompt_len = ids.size();
  // The prompt runs once; each new token then costs one column through the KV cache.
  auto batch = rt::make_token_batch({ids}, c);  // refuses a prompt longer than the context
  at::Tensor logits;
  rt::PrefixCache cache;
  if (a.max_tokens > 0) cache = loaded.model.forward_with_cache(batch, nullptr, rt::LogitsAt::Last, &logits);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(a.seed);
  bool context_full = false;
  for (int step = 0; step < a.max_tokens; ++step) {
    int64_t next = choose(logits.select(1, -1).select(0, 0).to(at::kCPU, at::kFloat), a, gen);
    ids.push_back(next);
    if (next == c.eos_token_id) break;
    if (c.n_ctx > 0 && static_cast<int>(ids.size()) >= c.n_ctx) {
      context_full = step + 1 < a.max_tokens;
      break;
    }
    if (step + 1 < a.max_tokens) logits = loaded.model.extend(cache, {next});
  }
  std::vector<int> generated(ids.begin() + static_cast<long>(prompt_len), ids.end());
  const std::string text = loaded.tokenizer->decode(generated);
  if (a.flags.json) {
    nlohmann::json out = {{"model", loaded.source.name}, {"prompt", a.prompt},
                          {"prompt_tokens", std::vector<int64_t>(ids.begin(), ids.begin() + static_cast<long>(prompt_len))},
                          {"generated_tokens", generated}, {"text", text}};
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::cout << a.prompt << text << "\n";
  if (context_full) {
    std::cerr << "note: stopped after " << generated.size() << " tokens: the context of "
              << c.n_ctx << " tokens is full\n";
  }
}

static CommandRegistrar reg{43, "generate", [](CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "Continue a prompt (greedy, or sampled with --temperature)");
  auto a = std::make_shared<GenerateArgs>();
  cmd->add_option("model", a->model, "model name, folder or .gguf file")->required();
  cmd->add_option("--prompt", a->prompt, "the prompt text")->required();
  cmd->add_option("--max-tokens", a->max_tokens, "tokens to generate")->capture_default_str();
  cmd->add_option("--temperature", a->temperature, "0 = greedy")->capture_default_str();
  cmd->add_option("--top-p", a->top_p, "nucleus sampling mass")->capture_default_str();
  cmd->add_option("--seed", a->seed, "sampling seed")->capture_default_str();
  add_runtime_flags(*cmd, a->flags);
  cmd->callback([a] { run_reporting_torch_errors([&] { run_generate(*a); }); });
}};

}  // namespace
}  // namespace circuit::cli
