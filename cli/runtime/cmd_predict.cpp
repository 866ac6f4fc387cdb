// `circuit predict MODEL --prompt T --top K`: the K most likely next tokens after the prompt.
#include <ATen/ATen.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "command_registry.h"
#include "runtime/model/token_batch.h"
#include "runtime_cli.h"

namespace circuit::cli {
namespace {

struct PredictArgs {
  std::string model;
  std::string prompt;
  int top = 10;
  RuntimeFlags flags;
};

void run_predict(const PredictArgs& a) {
  if (a.top < 1) throw std::invalid_argument("--top must be at least 1");
  auto loaded = load_model(a.model, a.flags);
  auto ids = encode_prompt(loaded, a.prompt);
  auto batch = rt::make_token_batch({ids}, loaded.model.config());
  auto logits = loaded.model.forward(batch, nullptr, rt::LogitsAt::Last).select(1, -1).select(0, 0).to(at::kCPU, at::kFloat);
  auto probs = at::softmax(logits, -1);
  auto [values, indices] = probs.topk(std::min<int64_t>(a.top, probs.size(0)));
  nlohmann::json out = {{"model", loaded.source.name}, {"prompt", a.prompt}, {"tokens", ids}};
  nlohmann::json top = nlohmann::json::array();
  for (int64_t i = 0; i < values.size(0); ++i) {
    const int64_t id = indices[i].item<int64_t>();
    top.push_back({{"rank", i + 1}, {"id", id}, {"token", token_display(loaded, id)},
                   {"prob", values[i].item<double>()}, {"logit", logits[id].item<double>()}});
  }
  out["top"] = top;
  if (a.flags.json) {
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::printf("%s: %zu prompt tokens, next token:\n", loaded.source.name.c_str(), ids.size());
  for (const auto& t : top) {
    std::printf("%3d  %-20s %8.4f  (id %lld, logit %.3f)\n", t["rank"].get<int>(),
                nlohmann::json(t["token"]).dump().c_str(), t["prob"].get<double>(),
                static_cast<long long>(t["id"].get<int64_t>()), t["logit"].get<double>());
  }
}

static CommandRegistrar reg{42, "predict", [](CLI::App& app) {
  auto* cmd = app.add_subcommand("predict", "Print the most likely next tokens after a prompt");
  auto a = std::make_shared<PredictArgs>();
  cmd->add_option("model", a->model, "model name, folder or .gguf file")->required();
  cmd->add_option("--prompt", a->prompt, "the prompt text")->required();
  cmd->add_option("--top", a->top, "how many tokens")->capture_default_str();
  add_runtime_flags(*cmd, a->flags);
  cmd->callback([a] { run_reporting_torch_errors([&] { run_predict(*a); }); });
}};

}  // namespace
}  // namespace circuit::cli
