// The executor reads like its contract: make the plan executable, order and schedule the passes
// (budget errors surface here, before any forward: a row too large, or more kept than the budget
// holds), run them counting what they keep, normalize the metrics once every
// baseline is known, run the analyses, then report sweeps and claims.
#include "runtime/exec/plan_executor.h"

#include <map>
#include <numeric>
#include <stdexcept>

#include "runtime/analysis/run_analysis.h"
#include "runtime/exec/claims.h"
#include "runtime/exec/executable_plan.h"
#include "runtime/exec/memory_ledger.h"
#include "runtime/exec/metric.h"
#include "runtime/exec/pass_order.h"
#include "runtime/exec/pass_runner.h"
#include "runtime/exec/pass_schedule.h"
#include "runtime/exec/run_memory.h"
#include "runtime/exec/sweep_report.h"
#include "runtime/model/hooked_model.h"

namespace circuit::rt {
namespace {

void check_model(const formats::ModelConfig& c, const plan::ModelShape& m) {
  const bool same = c.n_layers == m.n_layers && c.n_heads == m.n_heads && c.n_kv_heads == m.n_kv_heads &&
                    c.d_model == m.d_model && c.d_head == m.d_head && c.d_mlp == m.d_mlp && c.d_vocab == m.d_vocab;
  if (same) return;
  auto shape = [](int layers, int heads, int d_model, int d_vocab) {
    return std::to_string(layers) + " layers, " + std::to_string(heads) + " heads, d_model " +
           std::to_string(d_model) + ", vocabulary " + std::to_string(d_vocab);
  };
  throw std::invalid_argument("the plan is for '" + m.name + "' (" + shape(m.n_layers, m.n_heads, m.d_model, m.d_vocab) +
                              "), but the model '" + c.name + "' has " +
                              shape(c.n_layers, c.n_heads, c.d_model, c.d_vocab) + " (or differs in kv heads, "
                              "d_head or d_mlp)");
}

double mean_of(const std::vector<double>& v) {
  return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// Normalized metrics divide by baselines' raw means, so they are computed after every pass ran.
void normalize_metrics(const plan::HookPlan& plan, std::vector<PassResult>& passes) {
  std::map<std::pair<std::string, std::string>, double> raw_mean;
  for (const PassResult& p : passes)
    for (const MetricResult& m : p.metrics) raw_mean[{p.name, m.name}] = m.mean;
  for (size_t i = 0; i < plan.passes.size(); ++i) {
    for (size_t k = 0; k < plan.passes[i].metrics.size(); ++k) {
      const plan::Metric& metric = plan.passes[i].metrics[k];
      if (!metric.normalize) continue;
      auto baseline = [&](const std::string& pass) {
        auto it = raw_mean.find({pass, metric.name});
        if (it == raw_mean.end())
          throw std::invalid_argument("passes[" + std::to_string(i) + "] '" + plan.passes[i].name + "': metric '" +
                                      metric.name + "' normalizes by pass '" + pass + "', which has no such metric");
        return it->second;
      };
      const double clean = baseline(metric.normalize->clean_pass);
      const double corrupt = baseline(metric.normalize->corrupt_pass);
      MetricResult& result = passes[i].metrics[k];
      for (double& v : result.per_row) v = normalize_metric(v, clean, corrupt);
      result.mean = mean_of(result.per_row);
    }
  }
}

// Bytes of what a finished pass leaves for later passes.
std::int64_t left_bytes(const SavedPass& left) {
  return tensor_bytes(left.activations) + tensor_bytes(left.logits) + (left.cache ? left.cache->bytes() : 0);
}

// Lets go of what a pass left once its last reader has run (and of its bytes in the ledger).
struct Releaser {
  const plan::HookPlan& plan;
  PassOrder remaining;  // reader counts, counted down
  SavedPasses& saved;
  MemoryLedger& ledger;

  void after(const plan::Pass& reader) {
    for (const plan::Intervention& in : reader.interventions) release(in.source_pass, &PassOrder::activation_readers);
    for (const plan::Metric& m : reader.metrics)
      if (m.kind == plan::MetricKind::Kl) release(m.reference_pass, &PassOrder::logits_readers);
    release(reader.annotations.cache_from, &PassOrder::cache_readers);
  }
  void release(const std::string& name, std::vector<int> PassOrder::*counts) {
    const plan::Pass* p = plan::find_pass(plan, name);
    auto it = saved.find(name);
    if (!p || it == saved.end()) return;
    int& left = (remaining.*counts)[static_cast<size_t>(p - plan.passes.data())];
    if (left <= 0 || --left > 0) return;
    const std::int64_t before = left_bytes(it->second);
    if (counts == &PassOrder::activation_readers) it->second.activations.clear();
    if (counts == &PassOrder::logits_readers) it->second.logits = at::Tensor();
    if (counts == &PassOrder::cache_readers) it->second.cache.reset();
    ledger.release(before - left_bytes(it->second));
  }
  void release_all() {
    for (const auto& [name, left] : saved) ledger.release(left_bytes(left));
    saved.clear();
  }
};

}  // namespace

PlanResults execute_plan(const HookedModel& model, const plan::HookPlan& given, const ExecutionOptions& options) {
  check_model(model.config(), given.model);
  std::map<std::string, std::string> sweep_hooks;
  const plan::HookPlan plan = executable_plan(given, &sweep_hooks);
  const PassOrder order = order_passes(plan);
  // Budget errors, before any forward: one row of a pass over the budget; what the run would
  // keep over it; then the forwards fitted into what each pass's moment leaves.
  schedule_passes(model, plan, order, options);
  const int element_bytes = model.dtype_name() == "f32" ? 4 : 2;
  const KeptEstimate kept = check_kept_bytes(plan, element_bytes, options);
  const std::vector<ScheduledPass> schedule = schedule_passes(model, plan, order, options, &kept.held_before);
  MemoryLedger ledger(options.memory_budget_bytes, options.held_bytes);

  std::int64_t total = static_cast<std::int64_t>(plan.analyses.size());
  for (const ScheduledPass& s : schedule) total += (s.rows + s.chunk_rows - 1) / s.chunk_rows;
  std::int64_t done = 0;
  auto tick = [&](const std::string& what) {
    ++done;
    if (options.progress) options.progress(done, total, what);
  };

  PlanResults results;
  results.passes.resize(plan.passes.size());
  SavedPasses saved;
  std::map<std::string, TokenBatch> batches;
  Releaser releaser{plan, order, saved, ledger};
  const PassRunContext context{model, plan, options, saved, batches, tick, &ledger};
  for (const ScheduledPass& s : schedule) {
    const plan::Pass& pass = plan.passes[s.index];
    PassRun run = run_pass(context, s, order.activation_readers[s.index] > 0);
    PassResult& r = results.passes[s.index];
    r.name = pass.name;
    for (size_t k = 0; k < pass.metrics.size(); ++k) {
      MetricResult m;
      m.name = pass.metrics[k].name;
      m.kind = pass.metrics[k].kind;
      m.per_row = std::move(run.metrics[k]);
      m.mean = mean_of(m.per_row);
      r.metrics.push_back(std::move(m));
    }
    r.saves = std::move(run.saves);
    r.gradients = std::move(run.gradients);
    results.forwards += run.forwards;
    results.backwards += run.backwards;
    results.resumed_forwards += run.resumed_forwards;
    std::int64_t bytes = tensor_bytes(r.saves) + tensor_bytes(r.gradients) + left_bytes(run.left);
    for (const MetricResult& m : r.metrics) bytes += static_cast<std::int64_t>(m.per_row.size() * sizeof(double));
    ledger.hold(bytes, "passes[" + std::to_string(s.index) + "] '" + pass.name + "': " + format_bytes(bytes) +
                           " of saves, gradients, metrics and sources");
    if (!run.left.activations.empty() || run.left.logits.defined() || run.left.cache)
      saved[pass.name] = std::move(run.left);
    releaser.after(pass);
  }
  releaser.release_all();
  normalize_metrics(plan, results.passes);

  for (const plan::Analysis& analysis : plan.analyses) {
    if (options.cancel && options.cancel->load()) throw ExecutionCancelled{};
    results.analyses.push_back(run_analysis(model, plan, analysis, options));
    const AnalysisResult& a = results.analyses.back();
    const std::int64_t bytes = tensor_bytes(a.tensors) + static_cast<std::int64_t>(
        (a.nodes.names.size() + a.edges.names.size() + a.circuit.size()) * 96);
    ledger.hold(bytes, "analysis '" + analysis.name + "': " + format_bytes(bytes));
    tick("analysis '" + analysis.name + "'");
  }
  results.sweeps = report_sweeps(plan, results.passes, sweep_hooks);
  results.claims = evaluate_claims(plan, results);
  return results;
}

}  // namespace circuit::rt
