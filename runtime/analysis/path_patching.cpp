// Path patching as two stacked forwards per chunk of senders: one that freezes every head's
// output (the sender's from the corrupt run) and records the receivers' inputs, one that lets
// only those recorded inputs into an otherwise clean run. Both resume from the clean run's
// PrefixCache: below the sender's layer, and before the first column where its patched output
// differs from the clean one, the frozen run is the clean run, and the second run differs from
// the clean run only from the first receiver's layer and that column on. The frozen run stops
// after the last receiver's layer; a sender that reaches no receiver (or whose patched output is
// its clean output) has no effect, and its score is the clean run's metric without a forward.
#include "runtime/analysis/path_patching.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <limits>
#include <map>
#include <numeric>
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

// Whether a head in layer `sender_layer` can change what the receiver reads. Its output joins
// the residual stream after its layer's attention: every later layer sees it, and in its own
// layer so do the MLP's input (unless the MLP reads resid_pre, the parallel residual) and
// resid_post; the heads' own inputs are read before it.
bool reaches(int sender_layer, const ReceiverHook& r, const formats::ModelConfig& config) {
  if (r.layer != sender_layer) return r.layer > sender_layer;
  if (r.kind == HookKind::ResidPost) return true;
  return r.kind == HookKind::MlpIn && !config.parallel_residual;
}

// [layer][head]: the first padded column where the head's patched output differs from its
// clean output (seq when it never does). Causality makes the columns before it clean in both
// runs: with patch ablation, the columns where the corrupt prompts still equal the clean ones.
std::vector<std::vector<std::int64_t>> first_changed_columns(const std::vector<at::Tensor>& z_clean,
                                                             const std::vector<at::Tensor>& z_corrupt,
                                                             const at::Tensor& where) {
  std::vector<std::vector<std::int64_t>> out;
  for (size_t l = 0; l < z_clean.size(); ++l) {
    // [seq, heads]: some row's patched value differs there.
    at::Tensor changed =
        z_corrupt[l].ne(z_clean[l]).any(-1).logical_and(where).any(0).to(at::kCPU).contiguous();
    auto c = changed.accessor<bool, 2>();
    const std::int64_t seq = changed.size(0), heads = changed.size(1);
    std::vector<std::int64_t> first(static_cast<size_t>(heads), seq);
    for (std::int64_t h = 0; h < heads; ++h) {
      for (std::int64_t p = 0; p < seq; ++p) {
        if (c[p][h]) {
          first[static_cast<size_t>(h)] = p;
          break;
        }
      }
    }
    out.push_back(std::move(first));
  }
  return out;
}

// Senders of one layer stacked into one pair of forwards. Stacking never mixes layers: a
// forward starts at its lowest sender's layer, so a mixed chunk would recompute, for its higher
// senders, layers that the clean cache already holds.
struct Chunk {
  int layer = 0;
  std::vector<size_t> senders;  // indices into the sender list
};

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
  const std::int64_t n = clean.batch(), seq = clean.seq();
  const LogitsAt logits_at = logits_for_metric(clean, metric);

  auto cache_z = [&](HookSet& hooks) {
    for (int l = 0; l < config.n_layers; ++l) hooks.cache({HookKind::Z, l});
  };
  auto cached_z = [&](const HookSet& hooks) {
    std::vector<at::Tensor> z;
    for (int l = 0; l < config.n_layers; ++l) z.push_back(hooks.cached(formats::hook_point_name(HookKind::Z, l)));
    return z;
  };
  // The clean run, kept per layer for the resumed forwards.
  HookSet clean_hooks(config);
  cache_z(clean_hooks);
  at::Tensor clean_logits;
  const PrefixCache clean_cache = model.forward_with_cache(clean, &clean_hooks, logits_at, &clean_logits);
  const std::vector<at::Tensor> z_clean = cached_z(clean_hooks);
  std::vector<at::Tensor> z_corrupt;
  at::Tensor corrupt_logits;
  if (from_corrupt) {
    HookSet hooks(config);
    cache_z(hooks);
    corrupt_logits = model.forward(*corrupt, &hooks, logits_at);
    z_corrupt = cached_z(hooks);
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
  const at::Tensor kl_reference = metric.kind == plan::MetricKind::Kl ? clean_logits : at::Tensor();
  const double clean_mean = run_metric(clean_logits, clean, metric, clean_logits).mean().item<double>();
  const double corrupt_mean =
      run_metric(corrupt_logits, from_corrupt ? *corrupt : clean, metric, clean_logits).mean().item<double>();
  auto score_of = [&](double mean) { return metric.normalize ? normalize_metric(mean, clean_mean, corrupt_mean) : mean; };
  // [n, seq, 1]: where the sender's output is patched.
  at::Tensor where = position_mask(clean, analysis.positions, analysis).to(z_clean[0].device()).unsqueeze(-1);
  const std::vector<std::vector<std::int64_t>> first_changed = first_changed_columns(z_clean, z_corrupt, where);
  // A resumed second forward must still compute the columns its metric reads.
  std::int64_t metric_column = seq - 1;
  for (std::int64_t c : metric_columns(clean, metric)) metric_column = std::min(metric_column, c);

  // Senders with no effect score the clean run; the others run in chunks of one layer each.
  const std::int64_t total = static_cast<std::int64_t>(sources.size());
  std::vector<double> scores(sources.size(), score_of(clean_mean));
  std::vector<size_t> order(sources.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return sources[a].layer < sources[b].layer; });
  const std::int64_t per_forward = copies_per_forward(model, clean, context.options);
  std::vector<Chunk> chunks;
  std::int64_t done = 0;
  for (size_t i : order) {
    const ComponentId& s = sources[i];
    const bool reaches_any = std::any_of(receivers.begin(), receivers.end(),
                                         [&](const ReceiverHook& r) { return reaches(s.layer, r, config); });
    if (!reaches_any || first_changed[s.layer][s.head] >= seq) {
      ++done;
      continue;
    }
    if (chunks.empty() || chunks.back().layer != s.layer ||
        static_cast<std::int64_t>(chunks.back().senders.size()) >= per_forward)
      chunks.push_back({s.layer, {}});
    chunks.back().senders.push_back(i);
  }

  for (const Chunk& chunk : chunks) {
    const std::int64_t count = static_cast<std::int64_t>(chunk.senders.size());
    std::vector<ReceiverHook> reached;
    for (const ReceiverHook& r : receivers)
      if (reaches(chunk.layer, r, config)) reached.push_back(r);
    int first_receiver = config.n_layers, last_receiver = 0;
    for (const ReceiverHook& r : reached) {
      first_receiver = std::min(first_receiver, r.layer);
      last_receiver = std::max(last_receiver, r.layer);
    }
    std::int64_t column = metric_column;
    for (size_t i : chunk.senders) column = std::min(column, first_changed[chunk.layer][sources[i].head]);
    const std::int64_t width = seq - column;
    std::vector<std::int64_t> rows(static_cast<size_t>(count * n));
    for (size_t t = 0; t < rows.size(); ++t) rows[t] = static_cast<std::int64_t>(t) % n;

    // (1) Every head frozen to its clean output, the chunk's senders patched, from the senders'
    // layer to the last receiver's; the frozen outputs are built as each layer runs.
    HookSet freeze(config);
    for (int l = chunk.layer; l <= last_receiver; ++l) {
      freeze.call({HookKind::Z, l}, [&, l](const at::Tensor&, const HookContext&) {
        at::Tensor value = z_clean[l].narrow(1, column, width).repeat({count, 1, 1, 1});
        if (l != chunk.layer) return value;
        const at::Tensor at_columns = where.narrow(1, column, width);
        for (std::int64_t k = 0; k < count; ++k) {
          const std::int64_t h = sources[chunk.senders[static_cast<size_t>(k)]].head;
          at::Tensor patched = at::where(at_columns, z_corrupt[l].select(2, h).narrow(1, column, width),
                                         z_clean[l].select(2, h).narrow(1, column, width));
          value.narrow(0, k * n, n).select(2, h).copy_(patched);
        }
        return value;
      });
    }
    for (const ReceiverHook& r : reached) freeze.cache({r.kind, r.layer});
    model.forward_from_until(clean_cache, rows, {chunk.layer, column}, last_receiver, &freeze);

    // (2) The clean run with only the receivers' inputs replaced by the recorded ones.
    HookSet patch(config);
    for (const ReceiverHook& r : reached) {
      Selection selection;
      selection.heads = r.heads;
      patch.replace({r.kind, r.layer}, freeze.cached(formats::hook_point_name(r.kind, r.layer)), selection);
    }
    at::Tensor logits = model.forward_from(clean_cache, rows, {first_receiver, column}, &patch, logits_at);
    at::Tensor m = metric_per_row(logits, clean, metric, rows, kl_reference, column).to(at::kCPU, at::kDouble);
    for (std::int64_t k = 0; k < count; ++k)
      scores[chunk.senders[static_cast<size_t>(k)]] = score_of(m.narrow(0, k * n, n).mean().item<double>());
    done += count;
    step_done(context.options, done, total, analysis.name);
  }
  if (chunks.empty()) step_done(context.options, done, total, analysis.name);

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
