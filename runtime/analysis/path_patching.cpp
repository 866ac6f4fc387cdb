// Two stacked forwards per chunk of senders: one that freezes every head's output (the
// sender's from the corrupt run) and records the receivers' inputs, one that lets only those
// recorded inputs into an otherwise clean run.
#include "runtime/analysis/path_patching.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "runtime/analysis/analysis_runs.h"
#include "runtime/analysis/component_ids.h"
#include "runtime/exec/metric.h"
#include "runtime/exec/plan_tensors.h"
#include "runtime/hooks/hook_set.h"

namespace circuit::rt {

using formats::HookKind;

namespace {

// A hook point where receivers take their input, and the heads of it they own (empty: all of it).
struct ReceiverHook {
  HookKind kind;
  int layer;
  std::vector<std::int64_t> heads;
};

std::vector<ReceiverHook> receiver_hooks(const AnalysisContext& context) {
  const plan::Analysis& analysis = context.analysis;
  const auto& config = context.model.config();
  if (analysis.receivers.empty()) throw analysis_error(analysis, "path patching needs receivers");
  const int groups = config.n_kv_heads > 0 ? config.n_heads / config.n_kv_heads : 1;
  std::map<std::pair<HookKind, int>, std::set<std::int64_t>> heads;
  std::set<std::pair<HookKind, int>> whole;
  for (const auto& name : analysis.receivers) {
    ComponentId id = parse_component(name, config, "analysis '" + analysis.name + "' receivers");
    switch (id.kind) {
      case ComponentKind::Input: throw analysis_error(analysis, "'input' cannot receive");
      case ComponentKind::Logits: whole.insert({HookKind::ResidPost, config.n_layers - 1}); break;
      case ComponentKind::Mlp: whole.insert({HookKind::MlpIn, id.layer}); break;
      case ComponentKind::Head:
        if (id.input == HeadInput::Q || id.input == HeadInput::None) heads[{HookKind::QInput, id.layer}].insert(id.head);
        if (id.input == HeadInput::K || id.input == HeadInput::None) heads[{HookKind::KInput, id.layer}].insert(id.head / groups);
        if (id.input == HeadInput::V || id.input == HeadInput::None) heads[{HookKind::VInput, id.layer}].insert(id.head / groups);
        break;
    }
  }
  std::vector<ReceiverHook> out;
  for (const auto& [at, hs] : heads) out.push_back({at.first, at.second, {hs.begin(), hs.end()}});
  for (const auto& at : whole) out.push_back({at.first, at.second, {}});
  return out;
}

std::vector<ComponentId> senders(const AnalysisContext& context) {
  const auto& config = context.model.config();
  if (context.analysis.nodes.empty()) return all_heads(config);
  std::vector<ComponentId> out;
  for (const auto& name : context.analysis.nodes) {
    ComponentId id = parse_component(name, config, "analysis '" + context.analysis.name + "' nodes");
    if (id.kind != ComponentKind::Head || id.input != HeadInput::None)
      throw analysis_error(context.analysis, "path patching senders are heads, not '" + name + "'");
    out.push_back(id);
  }
  return out;
}

}  // namespace

AnalysisResult path_patching(const AnalysisContext& context) {
  const HookedModel& model = context.model;
  const auto& config = model.config();
  const plan::Analysis& analysis = context.analysis;
  const plan::Metric& metric = require_metric(context);
  TokenBatch clean = clean_prompts(context);
  const bool from_corrupt = analysis.ablation == plan::Ablation::Patch;
  std::optional<TokenBatch> corrupt;
  if (from_corrupt) corrupt = corrupt_prompts(context);
  const std::vector<ReceiverHook> receivers = receiver_hooks(context);
  const std::vector<ComponentId> sources = senders(context);
  const std::int64_t n = clean.batch();
  const LogitsAt logits_at = logits_for_metric(clean, metric);

  auto run_caching_z = [&](const TokenBatch& batch, std::vector<at::Tensor>& z) {
    HookSet hooks(config);
    for (int l = 0; l < config.n_layers; ++l) hooks.cache({HookKind::Z, l});
    at::Tensor logits = model.forward(batch, &hooks, logits_at);
    for (int l = 0; l < config.n_layers; ++l) z.push_back(hooks.cached(formats::hook_point_name(HookKind::Z, l)));
    return logits;
  };
  std::vector<at::Tensor> z_clean, z_corrupt;
  at::Tensor clean_logits = run_caching_z(clean, z_clean);
  at::Tensor corrupt_logits;
  if (from_corrupt) {
    corrupt_logits = run_caching_z(*corrupt, z_corrupt);
  } else {
    // Mean or zero ablation; its baseline is the clean run with every head ablated.
    HookSet ablated(config);
    for (int l = 0; l < config.n_layers; ++l) {
      const at::Tensor& z = z_clean[l];
      z_corrupt.push_back(analysis.ablation == plan::Ablation::Mean ? z.mean(0, true).expand_as(z).contiguous()
                                                                    : at::zeros_like(z));
      ablated.replace({HookKind::Z, l}, z_corrupt.back());
    }
    corrupt_logits = model.forward(clean, &ablated, logits_at);
  }
  const double clean_mean = run_metric(clean_logits, clean, metric, clean_logits).mean().item<double>();
  const double corrupt_mean =
      run_metric(corrupt_logits, from_corrupt ? *corrupt : clean, metric, clean_logits).mean().item<double>();
  // [n, seq, 1]: where the sender's output is patched.
  at::Tensor where = position_mask(clean, analysis.positions, analysis).to(z_clean[0].device()).unsqueeze(-1);

  const std::int64_t per_forward = copies_per_forward(model, clean, context.options);
  const std::int64_t total = static_cast<std::int64_t>(sources.size());
  std::vector<double> scores(sources.size());
  for (std::int64_t first = 0; first < total; first += per_forward) {
    const std::int64_t count = std::min(per_forward, total - first);
    TokenBatch stacked = repeat_batch(clean, count);
    HookSet freeze(config);
    for (int l = 0; l < config.n_layers; ++l) {
      at::Tensor value = z_clean[l].repeat({count, 1, 1, 1});
      for (std::int64_t k = 0; k < count; ++k) {
        const ComponentId& s = sources[first + k];
        if (s.layer != l) continue;
        at::Tensor patched = at::where(where, z_corrupt[l].select(2, s.head), z_clean[l].select(2, s.head));
        value.narrow(0, k * n, n).select(2, s.head).copy_(patched);
      }
      freeze.replace({HookKind::Z, l}, value);
    }
    for (const ReceiverHook& r : receivers) freeze.cache({r.kind, r.layer});
    model.forward(stacked, &freeze, LogitsAt::Last);

    HookSet patch(config);
    for (const ReceiverHook& r : receivers) {
      Selection selection;
      selection.heads = r.heads;
      patch.replace({r.kind, r.layer}, freeze.cached(formats::hook_point_name(r.kind, r.layer)), selection);
    }
    at::Tensor logits = model.forward(stacked, &patch, logits_at);
    at::Tensor m = run_metric(logits, clean, metric, clean_logits).to(at::kCPU, at::kDouble);
    for (std::int64_t k = 0; k < count; ++k) {
      const double mean = m.narrow(0, k * n, n).mean().item<double>();
      scores[first + k] = metric.normalize ? normalize_metric(mean, clean_mean, corrupt_mean) : mean;
    }
    step_done(context.options, first + count, total, analysis.name);
  }

  AnalysisResult result;
  result.name = analysis.name;
  result.kind = analysis.kind;
  at::Tensor grid = at::full({config.n_layers, config.n_heads}, std::numeric_limits<double>::quiet_NaN(), at::kDouble);
  for (size_t i = 0; i < sources.size(); ++i) {
    result.nodes.names.push_back(component_name(sources[i]));
    result.nodes.values.push_back(scores[i]);
    grid[sources[i].layer][sources[i].head] = scores[i];
  }
  result.tensors["scores"] = to_plan_tensor(grid);
  result.values["clean"] = clean_mean;
  result.values["corrupt"] = corrupt_mean;
  return result;
}

}  // namespace circuit::rt
