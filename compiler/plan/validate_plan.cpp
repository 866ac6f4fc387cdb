#include "compiler/plan/validate_plan.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include "compiler/plan/graph_ids.h"
#include "compiler/plan/json_path.h"
#include "compiler/plan/model_shape.h"
#include "compiler/plan/plan_error.h"
#include "runtime/formats/hook_point_table.h"

namespace circuit::plan {
namespace {

using formats::HookPointSpec;

// Upper bound on any model dimension: keeps products of dimensions far from overflow.
constexpr int kMaxDim = 1 << 24;
constexpr std::string_view kLayerSlot = "{layer}";

std::string at(const std::string& path, std::string_view key) { return path_key(path, key); }
std::string at(const std::string& path, size_t index) { return path_index(path, index); }
std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

struct HookInfo {
  const HookPointSpec* spec;
  int layer;
};

// What an index selection is checked against: the pass (or sweep target) it runs in.
struct RowContext {
  const TokenBatch* batch = nullptr;
  int pass_rows = 0;
  int min_length = 0;  // shortest row the pass covers
};

class Checker {
 public:
  Checker(const HookPlan& plan, const PlanLimits& limits) : plan_(plan), limits_(limits) {}

  std::vector<PlanIssue> run() {
    if (!check_model()) return issues_;
    check_names();
    for (size_t i = 0; i < plan_.batches.size() && !full(); ++i) check_batch(plan_.batches[i], at("batches", i));
    for (size_t i = 0; i < plan_.passes.size() && !full(); ++i) check_pass(plan_.passes[i], at("passes", i));
    for (size_t i = 0; i < plan_.sweeps.size() && !full(); ++i) check_sweep(plan_.sweeps[i], at("sweeps", i));
    for (size_t i = 0; i < plan_.analyses.size() && !full(); ++i) check_analysis(plan_.analyses[i], at("analyses", i));
    for (size_t i = 0; i < plan_.experiments.size() && !full(); ++i)
      check_experiment(plan_.experiments[i], at("experiments", i));
    for (size_t i = 0; i < plan_.claims.size() && !full(); ++i) check_claim(plan_.claims[i], at("claims", i));
    if (!full()) check_cycles();
    if (!full()) check_totals();
    return issues_;
  }

 private:
  bool full() const { return static_cast<int>(issues_.size()) >= limits_.max_issues; }
  void issue(const std::string& path, const std::string& reason) {
    if (!full()) issues_.push_back({path, reason});
  }

  // ---- model and names ----------------------------------------------------------------------

  bool check_model() {
    const ModelShape& m = plan_.model;
    const size_t before = issues_.size();
    auto dim = [&](const char* key, int value, int lo) {
      if (value < lo || value > kMaxDim)
        issue(at("model", key), std::to_string(value) + " is out of range (" + std::to_string(lo) +
                                    ".." + std::to_string(kMaxDim) + ")");
    };
    dim("n_layers", m.n_layers, 1);
    dim("n_heads", m.n_heads, 1);
    dim("n_kv_heads", m.n_kv_heads, 1);
    dim("d_model", m.d_model, 1);
    dim("d_head", m.d_head, 1);
    dim("d_mlp", m.d_mlp, 0);
    dim("d_vocab", m.d_vocab, 1);
    dim("n_ctx", m.n_ctx, 1);
    if (m.n_kv_heads > 0 && m.n_heads % m.n_kv_heads != 0)
      issue("model.n_kv_heads", std::to_string(m.n_kv_heads) + " does not divide n_heads (" +
                                    std::to_string(m.n_heads) + ")");
    config_ = model_config_for(m);
    if (!config_)
      issue("model.family", "unknown family " + quoted(m.family) +
                                " (expected gpt2, llama, gpt-neox or attn-only)");
    return issues_.size() == before;
  }

  template <typename T>
  void unique_names(const std::vector<T>& items, const char* list) {
    std::set<std::string_view> seen;
    for (size_t i = 0; i < items.size(); ++i) {
      const std::string& name = items[i].name;
      const std::string path = at(at(list, i), "name");
      if (name.empty()) issue(path, "must not be empty");
      else if (static_cast<int>(name.size()) > limits_.max_name_length)
        issue(path, "longer than " + std::to_string(limits_.max_name_length) + " characters");
      else if (!seen.insert(name).second) issue(path, "duplicate name " + quoted(name));
    }
  }

  void check_names() {
    unique_names(plan_.batches, "batches");
    unique_names(plan_.passes, "passes");
    unique_names(plan_.sweeps, "sweeps");
    unique_names(plan_.experiments, "experiments");
    unique_names(plan_.analyses, "analyses");
    unique_names(plan_.claims, "claims");
    if (static_cast<int64_t>(plan_.batches.size()) > limits_.max_passes)
      issue("batches", "more than " + std::to_string(limits_.max_passes) + " batches");
  }

  // ---- batches ------------------------------------------------------------------------------

  void check_batch(const TokenBatch& b, const std::string& path) {
    const std::string rows_path = at(path, "rows");
    if (b.rows.empty()) return issue(rows_path, "a batch needs at least one row");
    if (static_cast<int64_t>(b.rows.size()) > limits_.max_rows_per_batch)
      return issue(rows_path, std::to_string(b.rows.size()) + " rows exceed the limit of " +
                                  std::to_string(limits_.max_rows_per_batch));
    int64_t tokens = 0;
    for (size_t r = 0; r < b.rows.size() && !full(); ++r) {
      const auto& row = b.rows[r];
      const std::string row_path = at(rows_path, r);
      tokens += static_cast<int64_t>(row.size());
      if (row.empty()) issue(row_path, "empty row");
      if (static_cast<int64_t>(row.size()) > plan_.model.n_ctx)
        issue(row_path, std::to_string(row.size()) + " tokens exceed the model's context of " +
                            std::to_string(plan_.model.n_ctx));
      if (b.equal_lengths && row.size() != b.rows[0].size())
        issue(row_path, "has " + std::to_string(row.size()) + " tokens but row 0 has " +
                            std::to_string(b.rows[0].size()) + " (the batch requires equal lengths)");
      for (size_t t = 0; t < row.size(); ++t) {
        if (row[t] < 0 || row[t] >= plan_.model.d_vocab) {
          issue(at(row_path, t), "token id " + std::to_string(row[t]) + " is out of range (d_vocab " +
                                     std::to_string(plan_.model.d_vocab) + ")");
          break;
        }
      }
    }
    if (tokens > limits_.max_tokens_per_batch)
      issue(rows_path, std::to_string(tokens) + " tokens exceed the limit of " +
                           std::to_string(limits_.max_tokens_per_batch) + " per batch");
  }

  // ---- hook points and selections -----------------------------------------------------------

  std::optional<HookInfo> hook(const std::string& path, const std::string& name) {
    if (name.size() > 128) {
      issue(path, "hook name longer than 128 characters");
      return std::nullopt;
    }
    formats::HookPointLookup found = formats::lookup_hook_point(name, *config_);
    if (!found.ref) {
      issue(path, found.error);
      return std::nullopt;
    }
    return HookInfo{&formats::hook_point_spec(found.ref->kind), found.ref->layer};
  }

  // Size of the axis that `neurons` indexes: the neuron axis, else the last one.
  int64_t neuron_axis_size(const HookPointSpec& spec) const {
    const formats::Dim d = spec.neuron_axis >= 0 ? spec.shape[spec.neuron_axis] : spec.shape.back();
    return formats::dim_size(d, *config_, 0, plan_.model.n_ctx);
  }

  RowContext rows_of(const Pass& pass) const {
    RowContext ctx;
    ctx.batch = find_batch(plan_, pass.batch);
    if (!ctx.batch || ctx.batch->rows.empty()) return ctx;
    const int n = static_cast<int>(ctx.batch->rows.size());
    ctx.pass_rows = pass.n_rows > 0 ? pass.n_rows : n;
    const int covered = std::min(ctx.pass_rows, n);
    ctx.min_length = std::numeric_limits<int>::max();
    for (int t = 0; t < covered; ++t) {
      const int b = static_cast<int>((static_cast<int64_t>(std::max(pass.row_offset, 0)) + t) % n);
      ctx.min_length = std::min(ctx.min_length, static_cast<int>(ctx.batch->rows[b].size()));
    }
    return ctx;
  }

  void check_position_index(int p, const RowContext& ctx, const std::string& path) {
    const bool ok = p >= 0 ? p < ctx.min_length : -static_cast<int64_t>(p) <= ctx.min_length;
    if (!ok)
      issue(path, "position " + std::to_string(p) + " is out of range (the shortest row has " +
                      std::to_string(ctx.min_length) + " tokens)");
  }

  // `exactly_one`: metric positions read one position per row.
  void check_positions(const Positions& pos, const RowContext& ctx, const std::string& path,
                       bool exactly_one) {
    if (!ctx.batch) return;
    if (!pos.index.empty() && !pos.per_row.empty())
      return issue(path, "give either index positions or per_row positions, not both");
    if (exactly_one && pos.index.size() > 1)
      return issue(path, "a metric reads one position per row");
    for (size_t i = 0; i < pos.index.size(); ++i) check_position_index(pos.index[i], ctx, at(path, i));
    if (pos.per_row.empty()) return;
    const auto& rows = ctx.batch->rows;
    const std::string per_row = at(path, "per_row");
    if (pos.per_row.size() != rows.size())
      return issue(per_row, "has " + std::to_string(pos.per_row.size()) + " rows but batch " +
                                quoted(ctx.batch->name) + " has " + std::to_string(rows.size()));
    for (size_t r = 0; r < rows.size() && !full(); ++r) {
      if (exactly_one && pos.per_row[r].size() != 1)
        issue(at(per_row, r), "a metric reads exactly one position per row");
      for (size_t i = 0; i < pos.per_row[r].size(); ++i) {
        const int p = pos.per_row[r][i];
        if (p < 0 || p >= static_cast<int>(rows[r].size())) {
          issue(at(at(per_row, r), i), "position " + std::to_string(p) + " is out of range (row has " +
                                           std::to_string(rows[r].size()) + " tokens)");
          break;
        }
      }
    }
  }

  void check_indices(const std::vector<int>& values, int64_t bound, const std::string& path,
                     const std::string& what) {
    for (size_t i = 0; i < values.size(); ++i) {
      if (values[i] < 0 || values[i] >= bound) {
        issue(at(path, i), std::to_string(values[i]) + " is out of range (" + what + ")");
        return;
      }
    }
  }

  void check_heads(const std::vector<int>& heads, const HookInfo& h, const std::string& path) {
    if (heads.empty()) return;
    if (h.spec->head_axis < 0)
      return issue(path, "hook point " + quoted(h.spec->pattern) + " has no head axis");
    const int n = formats::head_count(*h.spec, *config_);
    const bool kv = h.spec->shape[h.spec->head_axis] == formats::Dim::KvHead;
    check_indices(heads, n, path, "model has " + std::to_string(n) + (kv ? " key/value heads" : " heads"));
  }

  void check_selection(const Selection& s, const HookInfo& h, const RowContext& ctx,
                       const std::string& path) {
    check_indices(s.rows, ctx.pass_rows, at(path, "rows"),
                  "the pass has " + std::to_string(ctx.pass_rows) + " rows");
    check_positions(s.positions, ctx, at(path, "positions"), false);
    check_heads(s.heads, h, at(path, "heads"));
    const int64_t n = neuron_axis_size(*h.spec);
    check_indices(s.neurons, n, at(path, "neurons"), "the indexed axis has size " + std::to_string(n));
  }

  // ---- interventions ------------------------------------------------------------------------

  bool saves_hook(const Pass& pass, const std::string& hook) const {
    return std::any_of(pass.saves.begin(), pass.saves.end(),
                       [&](const Save& s) { return s.hook == hook; });
  }

  // A pass another one reads activations from: it must exist, save the hook, and be over a
  // batch of the same row count (rows correspond by batch row index).
  void check_source_pass(const std::string& source, const std::string& hook, const RowContext& ctx,
                         const std::string& self, const std::string& path, bool same_lengths) {
    const Pass* src = find_pass(plan_, source);
    if (!src) return issue(path, "no pass named " + quoted(source));
    if (source == self) return issue(path, "a pass cannot read its own activations");
    if (!saves_hook(*src, hook))
      return issue(path, "pass " + quoted(source) + " does not save " + quoted(hook));
    if (same_lengths) check_rows_match(*src, ctx, path);
  }

  // Passes that exchange activations or logits position by position: the same number of
  // prompts, row r of one as long as row r of the other.
  void check_rows_match(const Pass& other, const RowContext& ctx, const std::string& path) {
    const TokenBatch* ob = find_batch(plan_, other.batch);
    if (!ob || !ctx.batch) return;
    if (ob->rows.size() != ctx.batch->rows.size())
      return issue(path, "pass " + quoted(other.name) + " runs " + std::to_string(ob->rows.size()) +
                             " prompts but this pass's batch has " + std::to_string(ctx.batch->rows.size()));
    for (size_t r = 0; r < ob->rows.size(); ++r)
      if (ob->rows[r].size() != ctx.batch->rows[r].size())
        return issue(path, "row " + std::to_string(r) + " of pass " + quoted(other.name) + " has " +
                               std::to_string(ob->rows[r].size()) + " tokens but this pass's has " +
                               std::to_string(ctx.batch->rows[r].size()));
  }

  void check_value(const Intervention& in, const HookInfo& h, const std::string& path) {
    const Tensor& v = in.value;
    if (v.data.empty()) return issue(path, "replace and add need a value");
    if (v.shape.size() > h.spec->shape.size())
      return issue(at(path, "shape"), "has more dimensions than the hook point");
    int64_t count = 1;
    for (int64_t d : v.shape) {
      if (d < 0 || d > kMaxDim) return issue(at(path, "shape"), "dimension out of range");
      count *= d;
      if (count > limits_.max_value_elements) break;
    }
    if (count != static_cast<int64_t>(v.data.size()))
      return issue(at(path, "data"), "has " + std::to_string(v.data.size()) +
                                         " elements but the shape holds " + std::to_string(count));
    value_elements_ += count;
    for (size_t i = 0; i < v.data.size(); ++i)
      if (!std::isfinite(v.data[i])) return issue(at(at(path, "data"), i), "must be finite");
    if (count > 1 && !v.shape.empty()) {
      const int64_t last = in.select.neurons.empty() ? neuron_axis_size(*h.spec)
                                                     : static_cast<int64_t>(in.select.neurons.size());
      if (v.shape.back() != last && v.shape.back() != 1)
        issue(at(path, "shape"), "last dimension " + std::to_string(v.shape.back()) +
                                     " does not match the selection's " + std::to_string(last));
    }
  }

  void unused(bool present, const Intervention& in, const std::string& path, const char* field) {
    if (present)
      issue(at(path, field), std::string("not used by action '") + action_name(in.action) + "'");
  }

  void check_intervention(const Intervention& in, const std::string& hook_name, const Pass& pass,
                          const RowContext& ctx, const std::string& path) {
    std::optional<HookInfo> h = hook(at(path, "hook"), hook_name);
    if (!h) return;
    check_selection(in.select, *h, ctx, at(path, "select"));
    const bool value_action = in.action == Action::Replace || in.action == Action::Add;
    const bool reads_source = in.action == Action::PatchFrom || in.action == Action::MeanAblate ||
                              in.action == Action::ResampleAblate || in.action == Action::Freeze;
    const bool reads_batch = in.action == Action::MeanAblate || in.action == Action::ResampleAblate;
    if (value_action) check_value(in, *h, at(path, "value"));
    else unused(in.value != Tensor{}, in, path, "value");
    if (in.action != Action::Scale) unused(in.factor != 1.0, in, path, "factor");
    if (!reads_source) unused(!in.source_pass.empty(), in, path, "source_pass");
    if (!reads_batch) unused(!in.source_batch.empty(), in, path, "source_batch");
    if (in.action != Action::MeanAblate) unused(in.mean_over_positions, in, path, "mean_over_positions");
    if (in.action != Action::ResampleAblate) unused(in.seed != 0, in, path, "seed");

    const std::string source_path = at(path, "source_pass");
    switch (in.action) {
      case Action::PatchFrom:
        if (in.source_pass.empty()) return issue(path, "patch_from needs a source_pass");
        return check_source_pass(in.source_pass, hook_name, ctx, pass.name, source_path, true);
      case Action::Freeze:
        if (in.source_pass.empty()) return;
        check_source_pass(in.source_pass, hook_name, ctx, pass.name, source_path, true);
        if (const Pass* src = find_pass(plan_, in.source_pass);
            src && (src->batch != pass.batch || !src->interventions.empty()))
          issue(source_path, "freeze reads a clean run (no interventions) of the same batch " +
                                 quoted(pass.batch));
        return;
      case Action::MeanAblate:
      case Action::ResampleAblate:
        if (in.source_pass.empty() == in.source_batch.empty())
          return issue(path, std::string(action_name(in.action)) +
                                 " needs exactly one of source_pass and source_batch");
        if (!in.source_pass.empty())
          return check_source_pass(in.source_pass, hook_name, ctx, pass.name, source_path, false);
        if (!find_batch(plan_, in.source_batch))
          issue(at(path, "source_batch"), "no batch named " + quoted(in.source_batch));
        return;
      default:
        return;
    }
  }

  // ---- passes -------------------------------------------------------------------------------

  // `own_baselines`: an analysis's metric, whose kl reference is the analysis's own clean run.
  void check_metric(const Metric& m, const RowContext& ctx, const std::string& path, bool own_baselines = false) {
    check_positions(m.position, ctx, at(path, "position"), true);
    const size_t n = ctx.batch->rows.size();
    auto token_list = [&](const std::vector<int32_t>& ids, const char* key, bool needed) {
      if (!needed) {
        if (!ids.empty())
          issue(at(path, key), std::string("not used by metric kind '") + metric_kind_name(m.kind) + "'");
        return;
      }
      if (ids.size() != n)
        return issue(at(path, key), "has " + std::to_string(ids.size()) + " ids but batch " +
                                        quoted(ctx.batch->name) + " has " + std::to_string(n) + " rows");
      for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] < 0 || ids[i] >= plan_.model.d_vocab)
          return issue(at(at(path, key), i), "token id " + std::to_string(ids[i]) +
                                                 " is out of range (d_vocab " +
                                                 std::to_string(plan_.model.d_vocab) + ")");
    };
    token_list(m.answers, "answers", m.kind != MetricKind::Kl);
    token_list(m.wrong_answers, "wrong_answers", m.kind == MetricKind::LogitDiff);
    if (own_baselines) return;
    if (m.kind == MetricKind::Kl) {
      if (m.reference_pass.empty()) issue(path, "kl needs a reference_pass");
      else if (const Pass* ref = find_pass(plan_, m.reference_pass); !ref)
        issue(at(path, "reference_pass"), "no pass named " + quoted(m.reference_pass));
      else
        check_rows_match(*ref, ctx, at(path, "reference_pass"));
    } else if (!m.reference_pass.empty()) {
      issue(at(path, "reference_pass"), "only kl reads a reference_pass");
    }
    if (m.normalize) {
      for (auto [key, name] : {std::pair{"clean_pass", &m.normalize->clean_pass},
                               std::pair{"corrupt_pass", &m.normalize->corrupt_pass}}) {
        const std::string p = at(at(path, "normalize"), key);
        const Pass* base = find_pass(plan_, *name);
        if (!base) issue(p, "no pass named " + quoted(*name));
        else if (std::none_of(base->metrics.begin(), base->metrics.end(),
                              [&](const Metric& bm) { return bm.name == m.name; }))
          issue(p, "pass " + quoted(*name) + " has no metric named " + quoted(m.name));
      }
    }
  }

  void check_pass(const Pass& pass, const std::string& path) {
    const TokenBatch* batch = find_batch(plan_, pass.batch);
    if (!batch) return issue(at(path, "batch"), "no batch named " + quoted(pass.batch));
    if (batch->rows.empty()) return;
    const int n = static_cast<int>(batch->rows.size());
    if (pass.row_offset < 0 || pass.row_offset >= n)
      return issue(at(path, "row_offset"), std::to_string(pass.row_offset) + " is out of range (batch " +
                                               quoted(batch->name) + " has " + std::to_string(n) + " rows)");
    if (pass.n_rows < 0 || pass.n_rows > limits_.max_rows_per_batch)
      return issue(at(path, "n_rows"), std::to_string(pass.n_rows) + " is out of range (limit " +
                                           std::to_string(limits_.max_rows_per_batch) + ")");
    const RowContext ctx = rows_of(pass);
    for (size_t i = 0; i < pass.interventions.size() && !full(); ++i) {
      const Intervention& in = pass.interventions[i];
      check_intervention(in, in.hook, pass, ctx, at(at(path, "interventions"), i));
    }
    for (size_t i = 0; i < pass.saves.size() && !full(); ++i) {
      const std::string p = at(at(path, "saves"), i);
      if (auto h = hook(at(p, "hook"), pass.saves[i].hook)) check_selection(pass.saves[i].select, *h, ctx, at(p, "select"));
    }
    std::set<std::string_view> metric_names;
    for (size_t i = 0; i < pass.metrics.size() && !full(); ++i) {
      const std::string p = at(at(path, "metrics"), i);
      if (!metric_names.insert(pass.metrics[i].name).second)
        issue(at(p, "name"), "duplicate metric " + quoted(pass.metrics[i].name));
      check_metric(pass.metrics[i], ctx, p);
    }
    if (pass.backward) {
      const std::string p = at(path, "backward");
      if (!metric_names.count(pass.backward->metric))
        issue(at(p, "metric"), "the pass has no metric named " + quoted(pass.backward->metric));
      if (pass.backward->hooks.empty()) issue(at(p, "hooks"), "name at least one hook point");
      for (size_t i = 0; i < pass.backward->hooks.size() && !full(); ++i)
        hook(at(at(p, "hooks"), i), pass.backward->hooks[i]);
    }
    for (size_t i = 0; i < pass.slices.size(); ++i) {
      const RowSlice& s = pass.slices[i];
      if (s.sweep.empty() || s.first_row < 0 || s.n_rows <= 0 ||
          static_cast<int64_t>(s.first_row) + s.n_rows > ctx.pass_rows)
        issue(at(at(path, "slices"), i), "rows [" + std::to_string(s.first_row) + ", +" +
                                             std::to_string(s.n_rows) + ") are not within the pass's " +
                                             std::to_string(ctx.pass_rows) + " rows");
    }
    const PassAnnotations& a = pass.annotations;
    if (!a.cache_from.empty() && !find_pass(plan_, a.cache_from))
      issue(at(at(path, "annotations"), "cache_from"), "no pass named " + quoted(a.cache_from));
    if (a.first_intervened_layer && (*a.first_intervened_layer < 0 || *a.first_intervened_layer > plan_.model.n_layers))
      issue(at(at(path, "annotations"), "first_intervened_layer"), "out of range");
    if (a.logit_positions) check_positions(*a.logit_positions, ctx, at(at(path, "annotations"), "logit_positions"), false);
  }

  // ---- sweeps and experiments ---------------------------------------------------------------

  void check_sweep(const Sweep& s, const std::string& path) {
    const Pass* target = find_pass(plan_, s.target_pass);
    if (!target) return issue(at(path, "target_pass"), "no pass named " + quoted(s.target_pass));
    if (!find_batch(plan_, target->batch)) return;  // reported at the pass
    const RowContext ctx = rows_of(*target);
    const std::string& hook_pattern = s.intervention.hook;
    const bool has_slot = hook_pattern.find(kLayerSlot) != std::string::npos;
    if (has_slot == s.layers.empty())
      return issue(at(at(path, "intervention"), "hook"),
                   has_slot ? "has \"{layer}\" but the sweep has no layers"
                            : "the sweep has layers but the hook has no \"{layer}\"");
    check_indices(s.layers, plan_.model.n_layers, at(path, "layers"),
                  "model has " + std::to_string(plan_.model.n_layers) + " layers");
    if (!s.heads.empty() && !s.intervention.select.heads.empty())
      issue(at(at(at(path, "intervention"), "select"), "heads"), "the sweep sets the heads");
    if (!s.positions.empty() && !s.intervention.select.positions.all())
      issue(at(at(at(path, "intervention"), "select"), "positions"), "the sweep sets the positions");
    if (sweep_item_count(s) > limits_.max_passes)
      return issue(path, std::to_string(sweep_item_count(s)) + " items exceed the limit of " +
                             std::to_string(limits_.max_passes) + " passes");
    const std::vector<int> one_layer{0};
    for (int layer : s.layers.empty() ? one_layer : s.layers) {
      if (layer < 0 || layer >= plan_.model.n_layers || full()) break;
      std::string name = hook_pattern;
      if (has_slot) name.replace(name.find(kLayerSlot), kLayerSlot.size(), std::to_string(layer));
      const size_t before = issues_.size();
      check_intervention(s.intervention, name, *target, ctx, at(path, "intervention"));
      if (auto h = issues_.size() == before ? hook(at(path, "intervention"), name) : std::nullopt)
        check_heads(s.heads, *h, at(path, "heads"));
      if (issues_.size() != before) break;  // the same problem at every layer: report it once
    }
    for (size_t i = 0; i < s.positions.size(); ++i) check_position_index(s.positions[i], ctx, at(at(path, "positions"), i));
  }

  // ---- analyses and claims -----------------------------------------------------------------

  // Kinds that take components out (patching from the corrupt batch, or mean/zero ablation).
  static bool ablates(AnalysisKind k) {
    return k == AnalysisKind::PathPatching || k == AnalysisKind::AttributionPatching || k == AnalysisKind::Eap ||
           k == AnalysisKind::EapIg || k == AnalysisKind::Acdc || k == AnalysisKind::Faithfulness ||
           k == AnalysisKind::Completeness || k == AnalysisKind::Minimality || k == AnalysisKind::CircuitCurve;
  }
  static bool is_detector(AnalysisKind k) {
    return k == AnalysisKind::PreviousTokenScore || k == AnalysisKind::InductionScore ||
           k == AnalysisKind::DuplicateTokenScore || k == AnalysisKind::CopyingScore;
  }
  static bool measures_circuit(AnalysisKind k) {
    return k == AnalysisKind::Faithfulness || k == AnalysisKind::Completeness || k == AnalysisKind::Minimality ||
           k == AnalysisKind::CircuitCurve;
  }

  // An analysis metric: like a pass metric, but its baselines are the analysis's own runs.
  void check_analysis_metric(const Metric& m, const RowContext& ctx, const std::string& path) {
    if (!m.reference_pass.empty())
      return issue(at(path, "reference_pass"), "an analysis's kl compares with its own clean run; name no pass");
    if (m.normalize && (!m.normalize->clean_pass.empty() || !m.normalize->corrupt_pass.empty()))
      return issue(at(path, "normalize"), "an analysis normalizes against its own clean and corrupt runs; name no passes");
    check_metric(m, ctx, path, /*own_baselines=*/true);
  }

  // Node and receiver ids: well-formed and in range for the model.
  std::optional<GraphNode> graph_node(const std::string& id, const std::string& path, bool receiver) {
    if (static_cast<int>(id.size()) > limits_.max_name_length) {
      issue(path, "longer than " + std::to_string(limits_.max_name_length) + " characters");
      return std::nullopt;
    }
    std::optional<GraphNode> node = parse_graph_node(id);
    if (!node) {
      issue(path, quoted(id) + " is not a " + (receiver ? "receiver" : "node") +
                      (receiver ? " (a{l}.h{h}<q|k|v>, m{l} or logits)" : " (input, a{l}.h{h}, m{l} or logits)"));
      return std::nullopt;
    }
    if (!node_in_range(*node, plan_.model)) {
      issue(path, quoted(id) + " is out of range (model has " + std::to_string(plan_.model.n_layers) + " layers, " +
                      std::to_string(plan_.model.n_heads) + " heads" + (plan_.model.d_mlp > 0 ? ")" : ", no MLPs)"));
      return std::nullopt;
    }
    const bool is_receiver = node->input != 0 || node->kind == GraphNode::Kind::Mlp ||
                             node->kind == GraphNode::Kind::Logits;
    const bool is_node = node->input == 0;
    if (receiver ? !is_receiver : !is_node) {
      issue(path, quoted(id) + (receiver ? " cannot receive an edge (name a head's input: <q>, <k> or <v>)"
                                         : " is a head's input, not a node"));
      return std::nullopt;
    }
    return node;
  }

  void check_analysis(const Analysis& a, const std::string& path) {
    const TokenBatch* batch = find_batch(plan_, a.batch);
    if (!batch) return issue(at(path, "batch"), "no batch named " + quoted(a.batch));
    if (batch->rows.empty()) return;
    RowContext ctx;
    ctx.batch = batch;
    ctx.pass_rows = static_cast<int>(batch->rows.size());
    ctx.min_length = std::numeric_limits<int>::max();
    for (const auto& row : batch->rows) ctx.min_length = std::min(ctx.min_length, static_cast<int>(row.size()));
    const AnalysisKind k = a.kind;
    if (!a.corrupt_batch.empty()) {
      const std::string cp = at(path, "corrupt_batch");
      const TokenBatch* corrupt = find_batch(plan_, a.corrupt_batch);
      if (!corrupt) return issue(cp, "no batch named " + quoted(a.corrupt_batch));
      if (corrupt->rows.size() != batch->rows.size())
        return issue(cp, "batch " + quoted(corrupt->name) + " has " + std::to_string(corrupt->rows.size()) +
                             " rows but " + quoted(batch->name) + " has " + std::to_string(batch->rows.size()));
      for (size_t r = 0; r < batch->rows.size(); ++r)
        if (corrupt->rows[r].size() != batch->rows[r].size())
          return issue(cp, "row " + std::to_string(r) + " has " + std::to_string(corrupt->rows[r].size()) +
                               " tokens but the clean row has " + std::to_string(batch->rows[r].size()) +
                               " (corrupt rows are patched position by position)");
    } else if (ablates(k) && a.ablation == Ablation::Patch) {
      issue(at(path, "corrupt_batch"), std::string(analysis_kind_name(k)) +
                                           " with ablation 'patch' needs a corrupt batch (or ablation 'mean')");
    }
    if (a.metric) check_analysis_metric(*a.metric, ctx, at(path, "metric"));
    else if (!is_detector(k) && k != AnalysisKind::LogitLens)
      issue(path, std::string(analysis_kind_name(k)) + " needs a metric");
    check_positions(a.positions, ctx, at(path, "positions"), false);

    auto unused_field = [&](bool present, const char* key) {
      if (present) issue(at(path, key), std::string("not used by analysis kind '") + analysis_kind_name(k) + "'");
    };
    unused_field(!a.receivers.empty() && k != AnalysisKind::PathPatching, "receivers");
    unused_field(!a.edges.empty() && !measures_circuit(k), "edges");
    unused_field(!a.edge_scores.empty() && k != AnalysisKind::CircuitCurve, "edge_scores");
    unused_field(a.top != 0 && k != AnalysisKind::Eap && k != AnalysisKind::EapIg, "top");
    unused_field(a.steps != 0 && k != AnalysisKind::EapIg, "steps");
    unused_field(a.threshold != 0.0 && k != AnalysisKind::Acdc, "threshold");
    if (a.top < 0) issue(at(path, "top"), "must not be negative");
    if (a.steps < 0 || a.steps > 1000) issue(at(path, "steps"), std::to_string(a.steps) + " is out of range (0..1000)");
    if (k == AnalysisKind::Acdc && !(a.threshold >= 0.0)) issue(at(path, "threshold"), "must not be negative");
    if (k == AnalysisKind::PathPatching && a.receivers.empty())
      issue(at(path, "receivers"), "path patching needs at least one receiver");

    if (static_cast<int64_t>(a.edges.size()) > limits_.max_value_elements)
      return issue(at(path, "edges"), std::to_string(a.edges.size()) + " edges exceed the limit of " +
                                          std::to_string(limits_.max_value_elements));
    for (size_t i = 0; i < a.nodes.size() && !full(); ++i) graph_node(a.nodes[i], at(at(path, "nodes"), i), false);
    for (size_t i = 0; i < a.receivers.size() && !full(); ++i)
      graph_node(a.receivers[i], at(at(path, "receivers"), i), true);
    std::set<std::string_view> seen;
    for (size_t i = 0; i < a.edges.size() && !full(); ++i) {
      const std::string ep = at(at(path, "edges"), i);
      const std::string& id = a.edges[i];
      const size_t arrow = id.find("->");
      if (arrow == std::string::npos) {
        issue(ep, quoted(id) + " is not an edge (sender->receiver)");
        continue;
      }
      auto sender = graph_node(id.substr(0, arrow), ep, false);
      auto receiver = sender ? graph_node(id.substr(arrow + 2), ep, true) : std::nullopt;
      if (!sender || !receiver) continue;
      if (!edge_is_forward(*sender, *receiver)) issue(ep, quoted(id) + ": the receiver runs before the sender");
      else if (!seen.insert(id).second) issue(ep, "duplicate edge " + quoted(id));
    }
    if (k == AnalysisKind::CircuitCurve) {
      if (a.edges.empty()) issue(at(path, "edges"), "a circuit curve needs scored edges");
      if (a.edge_scores.size() != a.edges.size())
        issue(at(path, "edge_scores"), "has " + std::to_string(a.edge_scores.size()) + " scores for " +
                                           std::to_string(a.edges.size()) + " edges");
      for (size_t i = 0; i < a.edge_scores.size(); ++i)
        if (!std::isfinite(a.edge_scores[i])) return issue(at(at(path, "edge_scores"), i), "must be finite");
    }
  }

  void check_claim(const Claim& c, const std::string& path) {
    static const std::set<std::string_view> comparators = {"<", "<=", ">", ">=", "==", "!="};
    if (!comparators.count(c.comparator))
      issue(at(path, "comparator"), quoted(c.comparator) + " is not a comparator (<, <=, >, >=, ==, !=)");
    if (!std::isfinite(c.threshold)) issue(at(path, "threshold"), "must be finite");
    if (c.experiment.empty() == !c.constant.has_value())
      return issue(path, "a claim reads exactly one of an experiment and a constant");
    if (c.constant && !std::isfinite(*c.constant)) issue(at(path, "constant"), "must be finite");
    if (!c.experiment.empty() &&
        std::none_of(plan_.experiments.begin(), plan_.experiments.end(),
                     [&](const Experiment& e) { return e.name == c.experiment; }))
      issue(at(path, "experiment"), "no experiment named " + quoted(c.experiment));
  }

  void check_experiment(const Experiment& e, const std::string& path) {
    for (size_t i = 0; i < e.analyses.size(); ++i)
      if (!find_analysis(plan_, e.analyses[i]))
        issue(at(at(path, "analyses"), i), "no analysis named " + quoted(e.analyses[i]));
    for (size_t i = 0; i < e.passes.size(); ++i)
      if (!find_pass(plan_, e.passes[i]))
        issue(at(at(path, "passes"), i), "no pass named " + quoted(e.passes[i]));
    for (size_t i = 0; i < e.sweeps.size(); ++i) {
      const std::string& name = e.sweeps[i];
      const bool stacked = std::any_of(plan_.passes.begin(), plan_.passes.end(), [&](const Pass& p) {
        return std::any_of(p.slices.begin(), p.slices.end(), [&](const RowSlice& s) { return s.sweep == name; });
      });
      if (!find_sweep(plan_, name) && !stacked) issue(at(at(path, "sweeps"), i), "no sweep named " + quoted(name));
    }
  }

  // ---- whole-plan checks ----------------------------------------------------------------------

  // Activation references (patch, ablation and freeze sources, cache reuse) must form a DAG so
  // that the executor can order the passes. Kahn's algorithm: no recursion on hostile input.
  void check_cycles() {
    std::map<std::string_view, size_t> index;
    for (size_t i = 0; i < plan_.passes.size(); ++i) index.emplace(plan_.passes[i].name, i);
    std::vector<std::vector<size_t>> readers(plan_.passes.size());
    std::vector<size_t> pending(plan_.passes.size(), 0);
    for (size_t i = 0; i < plan_.passes.size(); ++i) {
      const Pass& p = plan_.passes[i];
      auto edge = [&](const std::string& source) {
        auto it = index.find(source);
        if (it == index.end() || it->second == i) return;
        readers[it->second].push_back(i);
        ++pending[i];
      };
      for (const Intervention& in : p.interventions) edge(in.source_pass);
      edge(p.annotations.cache_from);
    }
    std::vector<size_t> ready;
    for (size_t i = 0; i < pending.size(); ++i)
      if (pending[i] == 0) ready.push_back(i);
    size_t done = 0;
    while (!ready.empty()) {
      const size_t i = ready.back();
      ready.pop_back();
      ++done;
      for (size_t r : readers[i])
        if (--pending[r] == 0) ready.push_back(r);
    }
    if (done == plan_.passes.size()) return;
    for (size_t i = 0; i < pending.size(); ++i)
      if (pending[i] > 0)
        return issue(at("passes", i), "pass " + quoted(plan_.passes[i].name) +
                                          " is on a cycle of activation references (patch_from, "
                                          "ablation or freeze sources)");
  }

  void check_totals() {
    int64_t forwards = static_cast<int64_t>(plan_.passes.size());
    int64_t tokens = 0;
    auto pass_tokens = [&](const Pass& p) -> int64_t {
      const TokenBatch* b = find_batch(plan_, p.batch);
      if (!b || b->rows.empty()) return 0;
      const int64_t n = static_cast<int64_t>(b->rows.size());
      const int64_t rows = p.n_rows > 0 ? p.n_rows : n;
      int64_t all = 0;
      for (const auto& row : b->rows) all += static_cast<int64_t>(row.size());
      int64_t total = (rows / n) * all;
      const int64_t offset = std::clamp<int64_t>(p.row_offset, 0, n - 1);
      for (int64_t t = 0; t < rows % n; ++t) total += static_cast<int64_t>(b->rows[(offset + t) % n].size());
      return total;
    };
    for (const Pass& p : plan_.passes) tokens += pass_tokens(p);
    for (const Sweep& s : plan_.sweeps) {
      const int64_t items = sweep_item_count(s);
      forwards = std::min(forwards + items, std::numeric_limits<int64_t>::max() / 2);
      if (const Pass* target = find_pass(plan_, s.target_pass)) {
        const int64_t per_item = pass_tokens(*target);
        const int64_t room = std::numeric_limits<int64_t>::max() / 2 - tokens;
        tokens += per_item > 0 && items > room / per_item ? room : items * per_item;
      }
    }
    if (forwards > limits_.max_passes)
      issue("passes", std::to_string(forwards) + " passes (sweep items included) exceed the limit of " +
                          std::to_string(limits_.max_passes));
    if (tokens > limits_.max_total_tokens)
      issue("passes", std::to_string(tokens) + " tokens over all passes exceed the limit of " +
                          std::to_string(limits_.max_total_tokens));
    if (value_elements_ > limits_.max_value_elements)
      issue("passes", std::to_string(value_elements_) + " value elements exceed the limit of " +
                          std::to_string(limits_.max_value_elements));
  }

  const HookPlan& plan_;
  const PlanLimits& limits_;
  std::optional<formats::ModelConfig> config_;
  std::vector<PlanIssue> issues_;
  int64_t value_elements_ = 0;
};

}  // namespace

std::vector<PlanIssue> check_plan(const HookPlan& plan, const PlanLimits& limits) {
  return Checker(plan, limits).run();
}

void validate_plan(const HookPlan& plan, const PlanLimits& limits) {
  PlanLimits first = limits;
  first.max_issues = 1;
  std::vector<PlanIssue> issues = check_plan(plan, first);
  if (!issues.empty()) throw PlanError(issues[0].path, issues[0].reason);
}

}  // namespace circuit::plan
