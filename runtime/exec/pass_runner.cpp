// A pass runs as chunks of rows; each chunk's results (metrics, saves, gradients, logits) are
// concatenated along the rows, so a chunked pass reports exactly what a whole one would.
#include "runtime/exec/pass_runner.h"

#include <ATen/ATen.h>

#include <set>
#include <stdexcept>

#include "runtime/exec/intervention_hooks.h"
#include "runtime/exec/metric.h"
#include "runtime/exec/plan_tensors.h"
#include "runtime/exec/save_selection.h"
#include "runtime/hooks/hook_set.h"
#include "runtime/model/hooked_model.h"

namespace circuit::rt {
namespace {

std::string pass_label(const ScheduledPass& s, const plan::Pass& pass) {
  return "passes[" + std::to_string(s.index) + "] '" + pass.name + "'";
}

at::Tensor concat_rows(const std::vector<at::Tensor>& parts) {
  return parts.size() == 1 ? parts.front() : at::cat(parts, 0);
}

// Logits reordered so that row b is batch row b (kl metrics index their reference that way).
at::Tensor logits_by_batch_row(const at::Tensor& logits, const RowLayout& layout, std::int64_t batch_rows,
                               const std::string& label) {
  std::vector<std::int64_t> index(batch_rows);
  for (std::int64_t b = 0; b < batch_rows; ++b) {
    index[b] = layout.row_holding(b);
    if (index[b] < 0)
      throw std::invalid_argument(label + ": a kl metric reads its logits, but it does not run batch row " +
                                  std::to_string(b));
  }
  return logits.index_select(0, at::tensor(index, at::kLong).to(logits.device()));
}

}  // namespace

const TokenBatch& padded_batch(const PassRunContext& context, const std::string& name) {
  auto it = context.batches.find(name);
  if (it != context.batches.end()) return it->second;
  const plan::TokenBatch* batch = plan::find_batch(context.plan, name);
  if (!batch) throw std::invalid_argument("no batch named '" + name + "'");
  return context.batches.emplace(name, to_token_batch(*batch, context.model.config())).first->second;
}

PassRun run_pass(const PassRunContext& context, const ScheduledPass& scheduled, bool keep_activations) {
  const HookedModel& model = context.model;
  const plan::Pass& pass = context.plan.passes[scheduled.index];
  const std::string label = pass_label(scheduled, pass);
  const TokenBatch& full = padded_batch(context, pass.batch);
  const RowLayout layout = RowLayout::of(full, pass_batch_rows(context.plan, pass));
  const std::int64_t rows = layout.rows();

  std::set<std::string> save_hooks;
  for (const plan::Save& s : pass.saves) save_hooks.insert(s.hook);
  int backward_metric = -1;
  if (pass.backward) {
    for (size_t m = 0; m < pass.metrics.size(); ++m)
      if (pass.metrics[m].name == pass.backward->metric) backward_metric = static_cast<int>(m);
    if (backward_metric < 0)
      throw std::invalid_argument(label + ": backward of unknown metric '" + pass.backward->metric + "'");
  }
  const PrefixCache* cache = nullptr;
  if (scheduled.resume) cache = context.saved.at(pass.annotations.cache_from).cache.get();

  PassRun run;
  run.left.rows = layout;
  std::vector<std::vector<at::Tensor>> metric_parts(pass.metrics.size());
  std::map<std::string, std::vector<at::Tensor>> save_parts, gradient_parts;
  std::vector<at::Tensor> logits_parts;
  std::int64_t kept = 0;  // bytes of the parts above (for the ledger)

  for (std::int64_t first = 0; first < rows; first += scheduled.chunk_rows) {
    if (context.options.cancel && context.options.cancel->load()) throw ExecutionCancelled{};
    const std::int64_t count = std::min(scheduled.chunk_rows, rows - first);
    ForwardRows forward_rows{layout.slice(first, count), first};
    HookSet hooks(model.config());
    for (size_t j = 0; j < pass.interventions.size(); ++j)
      add_intervention(hooks, pass.interventions[j], forward_rows, context.saved,
                       label + ": interventions[" + std::to_string(j) + "]");
    for (const std::string& hook : save_hooks) hooks.cache(hook);
    if (pass.backward)
      for (const std::string& hook : pass.backward->hooks) hooks.request_gradient(hook);

    at::Tensor logits;
    std::int64_t first_column = 0;
    if (scheduled.resume) {
      first_column = scheduled.resume->first_column;
      logits = model.forward_from(*cache, forward_rows.layout.batch_rows, *scheduled.resume, &hooks,
                                  scheduled.logits_at);
      ++run.resumed_forwards;
    } else if (scheduled.keeps_cache) {
      auto kept = std::make_shared<PrefixCache>(
          model.forward_with_cache(select_rows(full, forward_rows.layout.batch_rows), &hooks,
                                   scheduled.logits_at, &logits));
      run.left.cache = std::move(kept);
    } else {
      logits = model.forward(select_rows(full, forward_rows.layout.batch_rows), &hooks, scheduled.logits_at);
    }
    ++run.forwards;

    at::Tensor loss;
    for (size_t m = 0; m < pass.metrics.size(); ++m) {
      const plan::Metric& metric = pass.metrics[m];
      at::Tensor reference;
      if (metric.kind == plan::MetricKind::Kl) {
        auto ref = context.saved.find(metric.reference_pass);
        if (ref == context.saved.end() || !ref->second.logits.defined())
          throw std::invalid_argument(label + ": metric '" + metric.name + "' reads the logits of '" +
                                      metric.reference_pass + "', which has not run");
        reference = ref->second.logits;
      }
      at::Tensor values;
      try {
        values = metric_per_row(logits, full, metric, forward_rows.layout.batch_rows, reference, first_column);
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(label + ": " + e.what());
      }
      if (static_cast<int>(m) == backward_metric) loss = values.sum() / static_cast<double>(rows);
      metric_parts[m].push_back(values.detach().to(at::kCPU, at::kDouble));
    }
    if (pass.backward) {
      if (!loss.requires_grad())
        throw std::invalid_argument(label + ": metric '" + pass.backward->metric + "' has no gradient");
      loss.backward();
      ++run.backwards;
      for (const std::string& hook : pass.backward->hooks) gradient_parts[hook].push_back(hooks.gradient(hook).detach());
    }
    for (const std::string& hook : save_hooks) save_parts[hook].push_back(hooks.cached(hook).detach());
    if (scheduled.keeps_logits) logits_parts.push_back(logits.detach());
    if (context.ledger) {
      // What the pass has kept so far, twice: its parts are concatenated once all rows ran.
      for (const std::string& hook : save_hooks) kept += 2 * tensor_bytes(save_parts[hook].back());
      for (auto& [hook, parts] : gradient_parts) kept += 2 * tensor_bytes(parts.back());
      if (scheduled.keeps_logits) kept += 2 * tensor_bytes(logits_parts.back());
      const std::int64_t cache = run.left.cache ? run.left.cache->bytes() : 0;
      context.ledger->check(kept + cache, label + " after " + std::to_string(first + count) + " of " +
                                              std::to_string(rows) + " rows: " + format_bytes(kept + cache) +
                                              " of saves, gradients and caches");
    }
    if (context.forward_done) context.forward_done(pass.name);
  }

  for (size_t m = 0; m < pass.metrics.size(); ++m) {
    at::Tensor values = concat_rows(metric_parts[m]).contiguous();
    run.metrics.emplace_back(values.data_ptr<double>(), values.data_ptr<double>() + values.numel());
  }
  // Each concatenation lets go of its parts at once: a pass holds its chunks and their whole
  // together for one hook at a time, not for all of them.
  for (auto& [hook, parts] : gradient_parts) {
    run.gradients[hook] = to_plan_tensor(concat_rows(parts));
    parts.clear();
  }
  std::map<std::string, at::Tensor> saved;
  for (auto& [hook, parts] : save_parts) {
    saved[hook] = concat_rows(parts);
    parts.clear();
  }
  for (size_t k = 0; k < pass.saves.size(); ++k) {
    const plan::Save& s = pass.saves[k];
    if (!s.output) continue;
    const formats::HookPointSpec& spec = formats::hook_point_spec(formats::resolve_hook_point(s.hook, model.config()).kind);
    run.saves[s.hook] = to_plan_tensor(select_saved(saved.at(s.hook), spec, s.select, layout,
                                                    label + ": saves[" + std::to_string(k) + "]"));
  }
  if (keep_activations) run.left.activations = std::move(saved);
  if (scheduled.keeps_logits)
    run.left.logits = logits_by_batch_row(concat_rows(logits_parts), layout,
                                          static_cast<std::int64_t>(full.batch()), label);
  return run;
}

}  // namespace circuit::rt
