// The estimate walks the passes in the executor's order with the executor's bookkeeping: what a
// pass holds while it runs (its chunks' parts and their concatenation, then the f32 outputs),
// what it keeps to the end (outputs, gradients, per-row metrics), and what it leaves for later
// passes until their last reader has run (activations, logits, a clean run's cache). It leans
// high where the executor's choice is not known from the plan alone (whether a pass is chunked,
// where its logits are unembedded), so that a plan it lets through fits. One forward's own
// working set is not counted here: the schedule fits forwards into what the budget has left.
#include "runtime/exec/run_memory.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>

#include "compiler/plan/model_shape.h"
#include "runtime/exec/pass_order.h"
#include "runtime/exec/pass_schedule.h"
#include "runtime/formats/hook_point_table.h"

namespace circuit::rt {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max() / 4;
// Bytes per kept per-row metric value: the double, and while results.json is made, its JSON
// node and its text.
constexpr std::int64_t kMetricBytes = 8;
constexpr std::int64_t kMetricWrittenBytes = 64;
// A named score (a node or an edge of an analysis, a sweep item): its name, value and map entry.
constexpr std::int64_t kScoreBytes = 96;
// The logit lens keeps at most this many (layer, prompt, position) cells of top tokens.
constexpr std::int64_t kLensCells = std::int64_t{1} << 20;

// Saturating arithmetic: a plan of absurd size reports "over the budget", never wraps.
std::int64_t mul(std::int64_t a, std::int64_t b) {
  if (a <= 0 || b <= 0) return 0;
  return a > kMax / b ? kMax : a * b;
}
std::int64_t add(std::int64_t a, std::int64_t b) { return std::min(kMax, a + b); }

std::string rows_text(std::int64_t rows, std::int64_t seq) {
  return std::to_string(rows) + " rows x " + std::to_string(seq) + " tokens";
}

std::int64_t longest_row(const plan::TokenBatch* batch) {
  std::int64_t longest = 1;
  if (batch)
    for (const auto& row : batch->rows) longest = std::max<std::int64_t>(longest, static_cast<std::int64_t>(row.size()));
  return longest;
}

// Elements of one row of a hook's activation over `seq` columns; with `select`, of the part a
// save reports (its positions, heads and neurons).
std::int64_t row_elements(const formats::ModelConfig& c, const std::string& hook, std::int64_t seq,
                          const plan::Selection* select) {
  formats::HookPointLookup found = formats::lookup_hook_point(hook, c);
  if (!found.ref) return 0;
  const formats::HookPointSpec& spec = formats::hook_point_spec(found.ref->kind);
  std::vector<std::int64_t> shape = formats::hook_point_shape(spec, c, 1, seq);
  if (select) {
    const plan::Positions& p = select->positions;
    if (!p.all()) shape[spec.pos_axis] = static_cast<std::int64_t>(p.per_row.empty() ? p.index.size() : p.per_row.front().size());
    if (!select->heads.empty() && spec.head_axis >= 0) shape[spec.head_axis] = static_cast<std::int64_t>(select->heads.size());
    if (!select->neurons.empty())
      shape[spec.neuron_axis >= 0 ? spec.neuron_axis : shape.size() - 1] = static_cast<std::int64_t>(select->neurons.size());
  }
  std::int64_t n = 1;
  for (std::int64_t d : shape) n = mul(n, d);
  return n;
}

// What one pass costs, by when it is let go.
struct PassCost {
  std::string what;            // "passes[0] 'patterns' (2048 rows x 501 tokens: 30 saves)"
  std::int64_t during = 0;     // only while the pass runs
  std::int64_t kept = 0;       // to the end of the run
  std::int64_t written = 0;    // the writer's copy of the outputs, once every stage has run
  std::int64_t activations = 0, logits = 0, cache = 0;  // until their last reader has run
};

PassCost pass_cost(const plan::HookPlan& plan, const formats::ModelConfig& c, const PassOrder& order, std::size_t i,
                   int element_bytes, bool reuse_caches) {
  const plan::Pass& pass = plan.passes[i];
  const plan::TokenBatch* batch = plan::find_batch(plan, pass.batch);
  const std::int64_t rows = plan::pass_row_count(plan, pass);
  const std::int64_t batch_rows = batch ? static_cast<std::int64_t>(batch->rows.size()) : 0;
  const std::int64_t seq = longest_row(batch);
  const std::int64_t e = element_bytes;
  PassCost cost;

  // Saves: each chunk's activation (model dtype), their concatenation, the selection and its
  // f32 copy; the f32 output is kept and copied again by the writer.
  std::set<std::string> hooks;
  int outputs = 0;
  for (const plan::Save& s : pass.saves) {
    if (hooks.insert(s.hook).second) {
      const std::int64_t full = mul(mul(rows, row_elements(c, s.hook, seq, nullptr)), e);
      cost.during = add(cost.during, mul(full, 2));
      if (order.activation_readers[i] > 0) cost.activations = add(cost.activations, full);
    }
    if (!s.output) continue;
    ++outputs;
    const std::int64_t out_rows = s.select.rows.empty() ? rows : static_cast<std::int64_t>(s.select.rows.size());
    const std::int64_t selected = mul(out_rows, row_elements(c, s.hook, seq, &s.select));
    cost.during = add(cost.during, mul(selected, e));
    cost.kept = add(cost.kept, mul(selected, 4));
    cost.written = add(cost.written, mul(selected, 4));
  }
  int gradients = 0;
  if (pass.backward)
    for (const std::string& hook : pass.backward->hooks) {
      ++gradients;
      const std::int64_t n = mul(rows, row_elements(c, hook, seq, nullptr));
      cost.during = add(cost.during, mul(n, 2 * e));
      cost.kept = add(cost.kept, mul(n, 4));
      cost.written = add(cost.written, mul(n, 4));
    }
  const std::int64_t values = mul(rows, static_cast<std::int64_t>(pass.metrics.size()));
  cost.during = add(cost.during, mul(values, kMetricBytes));
  cost.kept = add(cost.kept, mul(values, kMetricBytes));
  cost.written = add(cost.written, mul(values, kMetricWrittenBytes));
  // kl references: every column's logits by batch row (chunks, concatenation, reordering).
  if (order.logits_readers[i] > 0) {
    const std::int64_t logits = mul(mul(mul(batch_rows, seq), c.d_vocab), e);
    cost.during = add(cost.during, mul(logits, 2));
    cost.logits = logits;
  }
  // A clean run that later passes resume from keeps every layer's residual, keys and values.
  if (reuse_caches && order.cache_readers[i] > 0 && !pass.backward && pass.row_offset == 0 && rows == batch_rows) {
    const std::int64_t per_row =
        mul(static_cast<std::int64_t>(std::max(1, c.n_layers)) + 1, mul(seq, c.d_model + 2 * c.n_kv_heads * c.d_head));
    cost.cache = mul(mul(rows, per_row), e);
  }
  cost.what = "passes[" + std::to_string(i) + "] '" + pass.name + "' (" + rows_text(rows, seq);
  if (outputs) cost.what += ": " + std::to_string(outputs) + (outputs == 1 ? " save" : " saves");
  if (gradients) cost.what += std::string(outputs ? ", " : ": ") + std::to_string(gradients) + " gradients";
  cost.what += ")";
  return cost;
}

// The outputs an analysis keeps: scores per node or edge of the full graph, the lens's grid.
std::int64_t analysis_bytes(const plan::Analysis& a, const formats::ModelConfig& c) {
  const std::int64_t L = std::max(1, c.n_layers), H = std::max(1, c.n_heads);
  std::int64_t bytes = mul(L * (H + 1) + 2, kScoreBytes);
  switch (a.kind) {
    case plan::AnalysisKind::Eap:
    case plan::AnalysisKind::EapIg:
    case plan::AnalysisKind::Acdc: {
      const std::int64_t senders = 1 + L * (H + 1), receivers = L * (3 * H + 1) + 1;
      bytes = add(bytes, mul(mul(senders, receivers), 2 * kScoreBytes));  // the scores and the circuit
      break;
    }
    case plan::AnalysisKind::LogitLens: bytes = add(bytes, mul(kLensCells, 2 * 4 * 2)); break;
    default: bytes = add(bytes, mul(static_cast<std::int64_t>(a.edges.size() + a.edge_scores.size()), kScoreBytes));
  }
  return bytes;
}

// The token batches: the plan's ids and, once a pass runs on one, its padded tensors (ids,
// positions, mask as int64).
std::int64_t batches_bytes(const plan::HookPlan& plan) {
  std::int64_t bytes = 0;
  for (const plan::TokenBatch& b : plan.batches) {
    const std::int64_t rows = static_cast<std::int64_t>(b.rows.size());
    bytes = add(bytes, mul(mul(rows, longest_row(&b)), 4 + 3 * 8));
  }
  return bytes;
}

// The moment's holders, largest first, as parts.
std::vector<KeptPart> parts_of(const std::map<std::string, std::int64_t>& held) {
  std::vector<KeptPart> parts;
  for (const auto& [what, bytes] : held)
    if (bytes > 0) parts.push_back({what, bytes});
  std::stable_sort(parts.begin(), parts.end(), [](const KeptPart& a, const KeptPart& b) { return a.bytes > b.bytes; });
  return parts;
}

}  // namespace

std::string over_budget_message(std::int64_t bytes, const std::string& what, std::int64_t budget) {
  return "the run would keep " + format_bytes(bytes) + (what.empty() ? "" : " (" + what + ")") + ", over the " +
         format_bytes(budget) +
         " memory budget: use a smaller task or fewer prompts, save fewer hooks, heads or positions, or raise "
         "--memory-budget";
}

KeptEstimate estimate_kept_bytes(const plan::HookPlan& plan, int element_bytes, const ExecutionOptions& options) {
  const std::optional<formats::ModelConfig> config = plan::model_config_for(plan.model);
  if (!config) throw std::invalid_argument("model '" + plan.model.name + "': unknown family '" + plan.model.family + "'");
  const PassOrder order = order_passes(plan);
  std::vector<PassCost> costs(plan.passes.size());
  for (std::size_t i : order.order) costs[i] = pass_cost(plan, *config, order, i, element_bytes, options.reuse_caches);

  // Who holds what, by label; the estimate is the largest total over the moments of the run.
  std::map<std::string, std::int64_t> held;
  if (options.held_bytes > 0) held["earlier stages' results"] = options.held_bytes;
  held["token batches"] = batches_bytes(plan);
  KeptEstimate estimate;
  estimate.held_before.assign(plan.passes.size(), 0);
  auto moment = [&](const std::map<std::string, std::int64_t>& now) {
    std::int64_t total = 0;
    for (const auto& [what, bytes] : now) total = add(total, bytes);
    if (total > estimate.peak || estimate.parts.empty()) {
      estimate.peak = total;
      estimate.parts = parts_of(now);
    }
  };
  PassOrder remaining = order;  // reader counts, counted down as the executor's Releaser does
  auto release = [&](const std::string& name, std::vector<int> PassOrder::*counts, std::int64_t PassCost::*part) {
    const plan::Pass* p = plan::find_pass(plan, name);
    if (!p) return;
    const std::size_t k = static_cast<std::size_t>(p - plan.passes.data());
    int& left = (remaining.*counts)[k];
    if (left <= 0 || --left > 0) return;
    held[costs[k].what] -= costs[k].*part;
  };
  for (std::size_t i : order.order) {
    const PassCost& cost = costs[i];
    const plan::Pass& pass = plan.passes[i];
    for (const auto& [what, bytes] : held) estimate.held_before[i] = add(estimate.held_before[i], bytes);
    auto during = held;
    during[cost.what] = add(during[cost.what], add(add(cost.during, cost.kept), add(cost.activations, cost.cache)));
    moment(during);
    held[cost.what] = add(held[cost.what], add(add(cost.kept, cost.activations), add(cost.logits, cost.cache)));
    for (const plan::Intervention& in : pass.interventions)
      release(in.source_pass, &PassOrder::activation_readers, &PassCost::activations);
    for (const plan::Metric& m : pass.metrics)
      if (m.kind == plan::MetricKind::Kl) release(m.reference_pass, &PassOrder::logits_readers, &PassCost::logits);
    release(pass.annotations.cache_from, &PassOrder::cache_readers, &PassCost::cache);
  }
  // After the passes: what they left for readers is let go, the analyses' outputs are added,
  // and the writer copies every output once more.
  for (std::size_t i : order.order) held[costs[i].what] = costs[i].kept;
  std::int64_t analyses = 0;
  for (const plan::Analysis& a : plan.analyses) analyses = add(analyses, analysis_bytes(a, *config));
  for (const plan::Sweep& s : plan.sweeps) analyses = add(analyses, mul(plan::sweep_item_count(s), kScoreBytes));
  if (analyses > 0) held["analyses and sweeps"] = analyses;
  moment(held);
  std::int64_t written = 0;
  for (const PassCost& cost : costs) written = add(written, cost.written);
  if (written > 0) held["writing the results (a copy of every saved tensor)"] = written;
  moment(held);
  return estimate;
}

KeptEstimate check_kept_bytes(const plan::HookPlan& plan, int element_bytes, const ExecutionOptions& options) {
  KeptEstimate estimate = estimate_kept_bytes(plan, element_bytes, options);
  const std::int64_t budget = options.memory_budget_bytes;
  if (budget <= 0 || estimate.peak <= budget) return estimate;
  std::string what;
  for (size_t k = 0; k < estimate.parts.size() && k < 2; ++k)
    what += (k ? "; " : "") + estimate.parts[k].what + ": " + format_bytes(estimate.parts[k].bytes);
  throw std::invalid_argument(over_budget_message(estimate.peak, what, budget));
}

}  // namespace circuit::rt
