// `circuit cache MODEL --prompt T [--prompt T2 ...] [--hooks PATTERN ...] --out F.safetensors`:
// one forward pass over the prompts (left-padded into one batch), writing the chosen hook
// points, the logits, the tokens and the attention mask to a safetensors file.
#include <ATen/ATen.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "command_registry.h"
#include "runtime/hooks/hook_set.h"
#include "runtime/model/token_batch.h"
#include "runtime/weights/save_safetensors.h"
#include "runtime_cli.h"

namespace circuit::cli {
namespace {

struct CacheArgs {
  std::string model;
  std::vector<std::string> prompts;
  std::vector<std::string> token_lists;
  std::vector<std::string> hooks;
  std::string out;
  bool right_pad = false;
  RuntimeFlags flags;
};

void run_cache(const CacheArgs& a) {
  if (a.prompts.empty() == a.token_lists.empty())
    throw std::invalid_argument("give the prompts either as --prompt text or as --tokens ids, not both");
  auto loaded = load_model(a.model, a.flags, !a.prompts.empty());
  const auto& c = loaded.model.config();
  std::vector<std::vector<std::int64_t>> prompts;
  for (const auto& p : a.prompts) prompts.push_back(encode_prompt(loaded, p));
  for (const auto& t : a.token_lists) prompts.push_back(parse_token_list(t));
  auto batch = rt::make_token_batch(prompts, c, a.right_pad ? rt::PadSide::Right : rt::PadSide::Left);

  rt::HookSet hooks(c);
  if (a.hooks.empty()) {
    hooks.cache_all(false);
  } else {
    for (const auto& pattern : a.hooks) {
      auto refs = formats::match_hook_points(pattern, c, false);
      if (refs.empty()) throw std::invalid_argument("--hooks '" + pattern + "' matches no hook point");
      for (const auto& ref : refs) hooks.cache(ref);
    }
  }
  auto logits = loaded.model.forward(batch, &hooks);
  std::map<std::string, at::Tensor> tensors(hooks.caches().begin(), hooks.caches().end());
  tensors["logits"] = logits;
  tensors["tokens"] = batch.tokens;
  tensors["attention_mask"] =
      batch.padded() ? batch.attention_mask.to(at::kLong) : at::ones_like(batch.tokens);
  tensors["positions"] = batch.positions.contiguous();
  rt::save_safetensors(a.out, tensors,
                   {{"model", loaded.source.name}, {"padding", a.right_pad ? "right" : "left"},
                    {"dtype", loaded.model.dtype_name()}});
  if (a.flags.json) {
    nlohmann::json out = {{"out", a.out}, {"batch", batch.batch()}, {"seq", batch.seq()},
                          {"hook_points", hooks.caches().size()}};
    std::cout << out.dump(2) << "\n";
  } else {
    std::printf("wrote %zu hook points and the logits for %lld x %lld tokens to %s\n",
                hooks.caches().size(), static_cast<long long>(batch.batch()),
                static_cast<long long>(batch.seq()), a.out.c_str());
  }
}

static CommandRegistrar reg{44, "cache", [](CLI::App& app) {
  auto* cmd = app.add_subcommand("cache", "Run prompts and save hook point activations to safetensors");
  auto a = std::make_shared<CacheArgs>();
  cmd->add_option("model", a->model, "model name, folder or .gguf file")->required();
  cmd->add_option("--prompt", a->prompts, "a prompt (repeat for a batch)");
  cmd->add_option("--tokens", a->token_lists, "a prompt as comma-separated token ids (repeatable)");
  cmd->add_option("--hooks", a->hooks, "hook point names or patterns with '*' (default: all)");
  cmd->add_option("--out", a->out, "output .safetensors file")->required();
  cmd->add_flag("--right-pad", a->right_pad, "pad on the right instead of the left");
  add_runtime_flags(*cmd, a->flags);
  cmd->callback([a] { run_reporting_torch_errors([&] { run_cache(*a); }); });
}};

}  // namespace
}  // namespace circuit::cli
