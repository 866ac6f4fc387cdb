// The memory estimate counts, per row, what a forward holds at its peak: one layer's
// activations (all layers' when a backward keeps the graph), the logits and their softmax, the
// saved activations, source activations gathered for interventions, gradients, and the cache a
// clean run keeps. It is an estimate (allocator slack is not modelled), but a deterministic
// one, so a plan is chunked the same way on every machine.
#include "runtime/exec/pass_schedule.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "compiler/optimize/plan_references.h"
#include "runtime/formats/hook_point_table.h"

namespace circuit::rt {
namespace {

using formats::HookKind;

std::int64_t longest_row(const plan::HookPlan& plan, const plan::Pass& pass) {
  const plan::TokenBatch* batch = plan::find_batch(plan, pass.batch);
  std::int64_t longest = 1;
  if (batch)
    for (const auto& row : batch->rows) longest = std::max<std::int64_t>(longest, static_cast<std::int64_t>(row.size()));
  return longest;
}

int element_bytes(const HookedModel& model) {
  const std::string dtype = model.dtype_name();
  return dtype == "f32" ? 4 : 2;
}

// Elements of one row of a hook point's activation over `width` query columns (`seq` keys).
std::int64_t hook_elements(const formats::ModelConfig& config, const std::string& hook, std::int64_t width,
                           std::int64_t seq) {
  formats::HookPointLookup found = formats::lookup_hook_point(hook, config);
  if (!found.ref) return 0;
  const formats::HookPointSpec& spec = formats::hook_point_spec(found.ref->kind);
  std::int64_t n = 1;
  for (formats::Dim d : spec.shape) {
    if (d == formats::Dim::Batch) continue;
    if (d == formats::Dim::Pos || d == formats::Dim::QPos) n *= width;
    else n *= formats::dim_size(d, config, 1, seq);
  }
  return n;
}

bool after_blocks(const formats::ModelConfig& config, const std::string& hook) {
  formats::HookPointLookup found = formats::lookup_hook_point(hook, config);
  return found.ref && static_cast<int>(found.ref->kind) >= static_cast<int>(HookKind::LnFinalScale);
}

// Whether every row's last token is the batch's last column (LogitsAt::Last reads it).
bool last_tokens_aligned(const plan::TokenBatch& batch) {
  if (batch.pad_side == plan::PadSide::Left) return true;
  for (const auto& row : batch.rows)
    if (row.size() != batch.rows.front().size()) return false;
  return true;
}

LogitsAt logits_placement(const formats::ModelConfig& config, const plan::HookPlan& plan, const plan::Pass& pass) {
  const plan::PassAnnotations& a = pass.annotations;
  const bool last_only = (a.logits_needed && !*a.logits_needed) ||
                         (a.logit_positions && a.logit_positions->per_row.empty() &&
                          a.logit_positions->index == std::vector<int>{-1});
  if (!last_only || !last_tokens_aligned(*plan::find_batch(plan, pass.batch))) return LogitsAt::All;
  for (const plan::Save& s : pass.saves)
    if (after_blocks(config, s.hook)) return LogitsAt::All;
  for (const plan::Metric& m : pass.metrics)
    if (!(m.position.all() || (m.position.per_row.empty() && m.position.index == std::vector<int>{-1})))
      return LogitsAt::All;
  return LogitsAt::Last;
}

// The lowest padded column a list of positions reaches in any of the batch's rows (seq: none).
std::int64_t first_column(const plan::Positions& positions, const plan::TokenBatch& batch, std::int64_t seq) {
  if (positions.all()) return 0;
  std::int64_t first = seq;
  for (size_t b = 0; b < batch.rows.size(); ++b) {
    const std::int64_t length = static_cast<std::int64_t>(batch.rows[b].size());
    const std::int64_t start = batch.pad_side == plan::PadSide::Left ? seq - length : 0;
    const std::vector<int>& list = positions.per_row.empty() ? positions.index : positions.per_row.at(b);
    for (int p : list) {
      const std::int64_t i = p < 0 ? length + p : p;
      if (i >= 0 && i < length) first = std::min(first, start + i);
    }
  }
  return first;
}

// Where a pass reading `cache_from` can start: below its first intervened layer nothing
// changes, and (the model being causal) neither does any column before its first intervened
// column. Saves need their layers whole; metrics need the columns they read. Embedding hooks are
// layer 0 (a forward resumed there embeds its columns again); the final norm and the logits are
// layer n_layers.
std::optional<ResumePoint> resume_point(const formats::ModelConfig& config, const plan::HookPlan& plan,
                                        const plan::Pass& pass, bool keeps_logits) {
  if (pass.backward || pass.interventions.empty()) return std::nullopt;
  const plan::TokenBatch& batch = *plan::find_batch(plan, pass.batch);
  const std::int64_t seq = longest_row(plan, pass);
  int layer = config.n_layers;
  std::int64_t column = seq;
  for (const plan::Intervention& in : pass.interventions) {
    layer = std::min(layer, plan::hook_layer(in.hook, config.n_layers));
    column = std::min(column, first_column(in.select.positions, batch, seq));
  }
  for (const plan::Save& s : pass.saves) {
    layer = std::min(layer, plan::hook_layer(s.hook, config.n_layers));
    column = 0;
  }
  for (const plan::Metric& m : pass.metrics)
    column = std::min(column, first_column(m.position.all() ? plan::Positions{{-1}, {}} : m.position, batch, seq));
  if (keeps_logits) column = 0;
  column = std::min(column, seq - 1);
  if (layer == 0 && column == 0) return std::nullopt;
  return ResumePoint{layer, column};
}

// Whether `producer` covers every row of its batch, one pass row per batch row from row 0, so
// that cache row b is batch row b.
bool covers_batch_in_order(const plan::HookPlan& plan, const plan::Pass& producer) {
  const plan::TokenBatch* batch = plan::find_batch(plan, producer.batch);
  return batch && producer.row_offset == 0 &&
         plan::pass_row_count(plan, producer) == static_cast<int>(batch->rows.size());
}

}  // namespace

std::string format_bytes(std::int64_t bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  char text[64];
  if (u == 0) std::snprintf(text, sizeof text, "%lld bytes", static_cast<long long>(bytes));
  else std::snprintf(text, sizeof text, "%.3g %s", v, units[u]);
  return text;
}

std::int64_t activation_bytes_per_row(const HookedModel& model, const plan::HookPlan& plan,
                                      const plan::Pass& pass, const ScheduledPass& scheduled) {
  const formats::ModelConfig& c = model.config();
  const std::int64_t seq = longest_row(plan, pass);
  const std::int64_t width = scheduled.resume ? seq - scheduled.resume->first_column : seq;
  const std::int64_t d = c.d_model, heads = c.n_heads, kv = c.n_kv_heads, dh = c.d_head, mlp = c.d_mlp;
  const std::int64_t layers = std::max(1, c.n_layers);
  const std::int64_t layer_live =
      width * (6 * d + 2 * (heads + 2 * kv) * dh + 3 * mlp) + 3 * heads * width * seq;
  std::int64_t elements = pass.backward ? layers * layer_live : layer_live;
  const std::int64_t logit_columns = scheduled.logits_at == LogitsAt::Last ? 1 : width;
  elements += logit_columns * c.d_vocab * (pass.backward ? 4 : 2);
  if (scheduled.keeps_logits) elements += logit_columns * c.d_vocab;
  if (scheduled.keeps_cache) elements += (layers + 1) * seq * (d + 2 * kv * dh);
  for (const plan::Save& s : pass.saves) elements += hook_elements(c, s.hook, seq, seq);
  for (const plan::Intervention& in : pass.interventions)
    if (!in.source_pass.empty()) elements += 2 * hook_elements(c, in.hook, width, seq);
  if (pass.backward)
    for (const std::string& hook : pass.backward->hooks) elements += 2 * hook_elements(c, hook, seq, seq);
  return elements * element_bytes(model);
}

std::vector<ScheduledPass> schedule_passes(const HookedModel& model, const plan::HookPlan& plan,
                                           const PassOrder& order, const ExecutionOptions& options,
                                           const std::vector<std::int64_t>* held_before) {
  const formats::ModelConfig& config = model.config();
  const std::int64_t budget = options.memory_budget_bytes;
  auto held = [&](std::size_t i) {
    return held_before && i < held_before->size() ? std::clamp<std::int64_t>((*held_before)[i], 0, std::max<std::int64_t>(0, budget)) : 0;
  };
  std::vector<ScheduledPass> by_index(plan.passes.size());
  auto fit = [&](ScheduledPass& s) {
    const plan::Pass& pass = plan.passes[s.index];
    s.bytes_per_row = activation_bytes_per_row(model, plan, pass, s);
    const std::int64_t left = budget - held(s.index);
    s.chunk_rows = budget > 0 ? std::min<std::int64_t>(s.rows, left / std::max<std::int64_t>(1, s.bytes_per_row))
                              : s.rows;
  };
  // Producers first (order puts them before their readers): whether they keep a cache decides
  // whether their readers resume.
  for (std::size_t i : order.order) {
    const plan::Pass& pass = plan.passes[i];
    ScheduledPass& s = by_index[i];
    s.index = i;
    s.rows = plan::pass_row_count(plan, pass);
    s.logits_at = logits_placement(config, plan, pass);
    s.keeps_logits = order.logits_readers[i] > 0;
    if (options.reuse_caches && !pass.annotations.cache_from.empty()) {
      const plan::Pass* producer = plan::find_pass(plan, pass.annotations.cache_from);
      if (producer && producer->batch == pass.batch &&
          by_index[static_cast<std::size_t>(producer - plan.passes.data())].keeps_cache)
        s.resume = resume_point(config, plan, pass, s.keeps_logits);
    }
    s.keeps_cache = options.reuse_caches && order.cache_readers[i] > 0 && !pass.backward &&
                    covers_batch_in_order(plan, pass);
    fit(s);
    if (s.keeps_cache && s.chunk_rows < s.rows) {
      s.keeps_cache = false;  // a cache covers the whole batch: a chunked run cannot give one
      fit(s);
    }
    if (s.chunk_rows < 1) {
      const std::int64_t total = s.bytes_per_row * s.rows;
      throw std::invalid_argument("passes[" + std::to_string(i) + "] '" + pass.name + "': needs " +
                                  format_bytes(total) + " of activations for " + std::to_string(s.rows) +
                                  " rows, over the " + format_bytes(budget) + " budget" +
                                  (held(i) > 0 ? " (" + format_bytes(held(i)) + " of it held by what the run keeps)"
                                               : std::string()) +
                                  ", and one row (" + format_bytes(s.bytes_per_row) + ") does not fit");
    }
  }
  std::vector<ScheduledPass> out;
  for (std::size_t i : order.order) out.push_back(by_index[i]);
  return out;
}

}  // namespace circuit::rt
