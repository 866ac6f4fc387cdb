#include "compiler/plan/plan_json.h"

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <set>
#include <vector>

#include "compiler/plan/json_path.h"
#include "compiler/plan/plan_error.h"

namespace circuit::plan {
namespace {

using nlohmann::json;

// Deeper JSON than any plan needs (a plan nests about 6 levels) is refused while parsing.
constexpr int kMaxDepth = 64;

// ---- writing ------------------------------------------------------------------------------

json positions_to_json(const Positions& p) {
  if (p.per_row.empty()) return p.index;
  json out = json::object();
  if (!p.index.empty()) out["index"] = p.index;
  out["per_row"] = p.per_row;
  return out;
}

json selection_to_json(const Selection& s) {
  json out = json::object();
  if (!s.rows.empty()) out["rows"] = s.rows;
  if (!s.positions.all()) out["positions"] = positions_to_json(s.positions);
  if (!s.heads.empty()) out["heads"] = s.heads;
  if (!s.neurons.empty()) out["neurons"] = s.neurons;
  return out;
}

json intervention_to_json(const Intervention& in) {
  json out = {{"hook", in.hook}, {"action", action_name(in.action)}};
  if (in.select != Selection{}) out["select"] = selection_to_json(in.select);
  if (in.value != Tensor{}) out["value"] = {{"shape", in.value.shape}, {"data", in.value.data}};
  if (in.factor != 1.0) out["factor"] = in.factor;
  if (!in.source_pass.empty()) out["source_pass"] = in.source_pass;
  if (!in.source_batch.empty()) out["source_batch"] = in.source_batch;
  if (in.mean_over_positions) out["mean_over_positions"] = true;
  if (in.seed != 0) out["seed"] = in.seed;
  return out;
}

json metric_to_json(const Metric& m) {
  json out = {{"name", m.name}, {"kind", metric_kind_name(m.kind)}};
  if (!m.position.all()) out["position"] = positions_to_json(m.position);
  if (!m.answers.empty()) out["answers"] = m.answers;
  if (!m.wrong_answers.empty()) out["wrong_answers"] = m.wrong_answers;
  if (!m.reference_pass.empty()) out["reference_pass"] = m.reference_pass;
  if (m.normalize) {
    out["normalize"] = json::object();  // an analysis's: against its own runs
    if (!m.normalize->clean_pass.empty()) out["normalize"]["clean_pass"] = m.normalize->clean_pass;
    if (!m.normalize->corrupt_pass.empty()) out["normalize"]["corrupt_pass"] = m.normalize->corrupt_pass;
  }
  return out;
}

json slice_to_json(const RowSlice& s) {
  json out = {{"sweep", s.sweep}, {"item", s.item}, {"first_row", s.first_row},
              {"n_rows", s.n_rows}};
  if (s.batch_row_offset != 0) out["batch_row_offset"] = s.batch_row_offset;
  if (s.layer) out["layer"] = *s.layer;
  if (s.head) out["head"] = *s.head;
  if (s.position) out["position"] = *s.position;
  return out;
}

json annotations_to_json(const PassAnnotations& a) {
  json out = json::object();
  if (a.first_intervened_layer) out["first_intervened_layer"] = *a.first_intervened_layer;
  if (a.first_intervened_position) out["first_intervened_position"] = *a.first_intervened_position;
  if (!a.cache_from.empty()) out["cache_from"] = a.cache_from;
  if (a.logits_needed) out["logits_needed"] = *a.logits_needed;
  if (a.logit_positions) out["logit_positions"] = positions_to_json(*a.logit_positions);
  return out;
}

json analysis_to_json(const Analysis& a) {
  json out = {{"name", a.name}, {"kind", analysis_kind_name(a.kind)}, {"batch", a.batch}};
  if (!a.corrupt_batch.empty()) out["corrupt_batch"] = a.corrupt_batch;
  if (a.metric) out["metric"] = metric_to_json(*a.metric);
  if (!a.nodes.empty()) out["nodes"] = a.nodes;
  if (!a.receivers.empty()) out["receivers"] = a.receivers;
  if (!a.edges.empty()) out["edges"] = a.edges;
  if (!a.edge_scores.empty()) out["edge_scores"] = a.edge_scores;
  if (!a.positions.all()) out["positions"] = positions_to_json(a.positions);
  if (a.ablation != Ablation::Patch) out["ablation"] = ablation_name(a.ablation);
  if (a.top != 0) out["top"] = a.top;
  if (a.steps != 0) out["steps"] = a.steps;
  if (a.threshold != 0.0) out["threshold"] = a.threshold;
  return out;
}

json claim_to_json(const Claim& c) {
  json out = {{"name", c.name}, {"expression", c.expression}, {"comparator", c.comparator},
              {"threshold", c.threshold}};
  if (!c.experiment.empty()) out["experiment"] = c.experiment;
  if (c.constant) out["constant"] = *c.constant;
  if (!c.location.empty()) out["location"] = c.location;
  return out;
}

}  // namespace

json pass_to_json(const Pass& p) {
  json out = {{"name", p.name}, {"batch", p.batch}};
  if (p.row_offset != 0) out["row_offset"] = p.row_offset;
  if (p.n_rows != 0) out["n_rows"] = p.n_rows;
  auto list = [](const auto& items, auto convert) {
    json arr = json::array();
    for (const auto& item : items) arr.push_back(convert(item));
    return arr;
  };
  if (!p.interventions.empty()) out["interventions"] = list(p.interventions, intervention_to_json);
  if (!p.saves.empty())
    out["saves"] = list(p.saves, [](const Save& s) {
      json save = {{"hook", s.hook}};
      if (s.select != Selection{}) save["select"] = selection_to_json(s.select);
      if (!s.output) save["output"] = false;
      return save;
    });
  if (!p.metrics.empty()) out["metrics"] = list(p.metrics, metric_to_json);
  if (p.backward) out["backward"] = {{"metric", p.backward->metric}, {"hooks", p.backward->hooks}};
  if (!p.slices.empty()) out["slices"] = list(p.slices, slice_to_json);
  if (p.annotations != PassAnnotations{}) out["annotations"] = annotations_to_json(p.annotations);
  return out;
}

namespace {

// ---- reading ------------------------------------------------------------------------------

std::string at(const std::string& path, std::string_view key) { return path_key(path, key); }
std::string at(const std::string& path, size_t index) { return path_index(path, index); }

std::string type_of(const json& v) {
  if (v.is_number_integer()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_array()) return "an array";
  if (v.is_object()) return "an object";
  return "null";
}

[[noreturn]] void wrong_type(const json& v, const std::string& path, const char* expected) {
  throw PlanError(path, std::string("expected ") + expected + ", got " + type_of(v));
}

// An object whose keys must all be among `known`.
const json& object(const json& v, const std::string& path, std::initializer_list<const char*> known) {
  if (!v.is_object()) wrong_type(v, path, "an object");
  for (const auto& [key, _] : v.items()) {
    bool ok = false;
    for (const char* k : known) ok = ok || key == k;
    if (!ok) throw PlanError(at(path, key), "unknown key");
  }
  return v;
}

const json* field(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

const json& required(const json& obj, const std::string& path, const char* key) {
  const json* v = field(obj, key);
  if (!v) throw PlanError(path, std::string("missing key '") + key + "'");
  return *v;
}

int64_t read_int64(const json& v, const std::string& path, int64_t lo, int64_t hi) {
  if (!v.is_number_integer()) wrong_type(v, path, "an integer");
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(hi)) throw PlanError(path, std::to_string(u) + " is too large");
    return static_cast<int64_t>(u);
  }
  const int64_t i = v.get<int64_t>();
  if (i < lo || i > hi) throw PlanError(path, std::to_string(i) + " is out of range");
  return i;
}

int read_int(const json& v, const std::string& path) {
  return static_cast<int>(read_int64(v, path, std::numeric_limits<int32_t>::min(),
                                     std::numeric_limits<int32_t>::max()));
}

std::string read_string(const json& v, const std::string& path) {
  if (!v.is_string()) wrong_type(v, path, "a string");
  return v.get<std::string>();
}

bool read_bool(const json& v, const std::string& path) {
  if (!v.is_boolean()) wrong_type(v, path, "a boolean");
  return v.get<bool>();
}

double read_double(const json& v, const std::string& path) {
  if (!v.is_number()) wrong_type(v, path, "a number");
  const double d = v.get<double>();
  if (!std::isfinite(d)) throw PlanError(path, "must be finite");
  return d;
}

template <typename F>
auto read_list(const json& v, const std::string& path, F read_item) {
  if (!v.is_array()) wrong_type(v, path, "an array");
  std::vector<decltype(read_item(v, path))> out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) out.push_back(read_item(v[i], at(path, i)));
  return out;
}

std::vector<int> read_ints(const json& v, const std::string& path) {
  return read_list(v, path, read_int);
}
std::vector<std::vector<int>> read_int_rows(const json& v, const std::string& path) {
  return read_list(v, path, read_ints);
}
std::vector<std::string> read_strings(const json& v, const std::string& path) {
  return read_list(v, path, read_string);
}

// Optional fields: read into `out` when present.
template <typename T, typename F>
void opt(const json& obj, const std::string& path, const char* key, T& out, F read) {
  if (const json* v = field(obj, key)) out = read(*v, at(path, key));
}

Positions read_positions(const json& v, const std::string& path) {
  Positions p;
  if (v.is_array()) {
    p.index = read_ints(v, path);
    return p;
  }
  const json& o = object(v, path, {"index", "per_row"});
  opt(o, path, "index", p.index, read_ints);
  opt(o, path, "per_row", p.per_row, read_int_rows);
  return p;
}

Selection read_selection(const json& v, const std::string& path) {
  const json& o = object(v, path, {"rows", "positions", "heads", "neurons"});
  Selection s;
  opt(o, path, "rows", s.rows, read_ints);
  opt(o, path, "positions", s.positions, read_positions);
  opt(o, path, "heads", s.heads, read_ints);
  opt(o, path, "neurons", s.neurons, read_ints);
  return s;
}

Tensor read_tensor(const json& v, const std::string& path) {
  const json& o = object(v, path, {"shape", "data"});
  Tensor t;
  t.shape = read_list(required(o, path, "shape"), at(path, "shape"),
                      [](const json& d, const std::string& p) {
                        return read_int64(d, p, 0, std::numeric_limits<int32_t>::max());
                      });
  t.data = read_list(required(o, path, "data"), at(path, "data"),
                     [](const json& d, const std::string& p) {
                       const double x = read_double(d, p);
                       if (std::fabs(x) > std::numeric_limits<float>::max())
                         throw PlanError(p, "does not fit a 32-bit float");
                       return static_cast<float>(x);
                     });
  return t;
}

Intervention read_intervention(const json& v, const std::string& path) {
  const json& o = object(v, path, {"hook", "action", "select", "value", "factor", "source_pass",
                                   "source_batch", "mean_over_positions", "seed"});
  Intervention in;
  in.hook = read_string(required(o, path, "hook"), at(path, "hook"));
  const std::string action = read_string(required(o, path, "action"), at(path, "action"));
  auto parsed = parse_action(action);
  if (!parsed) throw PlanError(at(path, "action"), "unknown action '" + action + "'");
  in.action = *parsed;
  opt(o, path, "select", in.select, read_selection);
  opt(o, path, "value", in.value, read_tensor);
  opt(o, path, "factor", in.factor, read_double);
  opt(o, path, "source_pass", in.source_pass, read_string);
  opt(o, path, "source_batch", in.source_batch, read_string);
  opt(o, path, "mean_over_positions", in.mean_over_positions, read_bool);
  opt(o, path, "seed", in.seed, [](const json& s, const std::string& p) -> uint64_t {
    if (!s.is_number_unsigned() && !(s.is_number_integer() && s.get<int64_t>() >= 0))
      wrong_type(s, p, "a non-negative integer");
    return s.get<uint64_t>();
  });
  return in;
}

Save read_save(const json& v, const std::string& path) {
  const json& o = object(v, path, {"hook", "select", "output"});
  Save s;
  s.hook = read_string(required(o, path, "hook"), at(path, "hook"));
  opt(o, path, "select", s.select, read_selection);
  opt(o, path, "output", s.output, read_bool);
  return s;
}

Metric read_metric(const json& v, const std::string& path) {
  const json& o = object(v, path, {"name", "kind", "position", "answers", "wrong_answers",
                                   "reference_pass", "normalize"});
  Metric m;
  m.name = read_string(required(o, path, "name"), at(path, "name"));
  const std::string kind = read_string(required(o, path, "kind"), at(path, "kind"));
  auto parsed = parse_metric_kind(kind);
  if (!parsed) throw PlanError(at(path, "kind"), "unknown metric kind '" + kind + "'");
  m.kind = *parsed;
  opt(o, path, "position", m.position, read_positions);
  opt(o, path, "answers", m.answers, read_ints);
  opt(o, path, "wrong_answers", m.wrong_answers, read_ints);
  opt(o, path, "reference_pass", m.reference_pass, read_string);
  if (const json* n = field(o, "normalize")) {
    const std::string np = at(path, "normalize");
    const json& no = object(*n, np, {"clean_pass", "corrupt_pass"});
    m.normalize = Normalize{};  // the validator requires both names in a pass's metric, none in an analysis's
    if (const json* c = field(no, "clean_pass")) m.normalize->clean_pass = read_string(*c, at(np, "clean_pass"));
    if (const json* c = field(no, "corrupt_pass")) m.normalize->corrupt_pass = read_string(*c, at(np, "corrupt_pass"));
  }
  return m;
}

RowSlice read_slice(const json& v, const std::string& path) {
  const json& o = object(v, path, {"sweep", "item", "first_row", "n_rows", "batch_row_offset",
                                   "layer", "head", "position"});
  RowSlice s;
  s.sweep = read_string(required(o, path, "sweep"), at(path, "sweep"));
  s.item = read_int(required(o, path, "item"), at(path, "item"));
  s.first_row = read_int(required(o, path, "first_row"), at(path, "first_row"));
  s.n_rows = read_int(required(o, path, "n_rows"), at(path, "n_rows"));
  opt(o, path, "batch_row_offset", s.batch_row_offset, read_int);
  opt(o, path, "layer", s.layer, read_int);
  opt(o, path, "head", s.head, read_int);
  opt(o, path, "position", s.position, read_int);
  return s;
}

PassAnnotations read_annotations(const json& v, const std::string& path) {
  const json& o = object(v, path, {"first_intervened_layer", "first_intervened_position",
                                   "cache_from", "logits_needed", "logit_positions"});
  PassAnnotations a;
  opt(o, path, "first_intervened_layer", a.first_intervened_layer, read_int);
  opt(o, path, "first_intervened_position", a.first_intervened_position, read_int);
  opt(o, path, "cache_from", a.cache_from, read_string);
  opt(o, path, "logits_needed", a.logits_needed, read_bool);
  opt(o, path, "logit_positions", a.logit_positions, read_positions);
  return a;
}

Pass read_pass(const json& v, const std::string& path) {
  const json& o = object(v, path, {"name", "batch", "row_offset", "n_rows", "interventions",
                                   "saves", "metrics", "backward", "slices", "annotations"});
  Pass p;
  p.name = read_string(required(o, path, "name"), at(path, "name"));
  p.batch = read_string(required(o, path, "batch"), at(path, "batch"));
  opt(o, path, "row_offset", p.row_offset, read_int);
  opt(o, path, "n_rows", p.n_rows, read_int);
  opt(o, path, "interventions", p.interventions,
      [](const json& l, const std::string& lp) { return read_list(l, lp, read_intervention); });
  opt(o, path, "saves", p.saves,
      [](const json& l, const std::string& lp) { return read_list(l, lp, read_save); });
  opt(o, path, "metrics", p.metrics,
      [](const json& l, const std::string& lp) { return read_list(l, lp, read_metric); });
  if (const json* b = field(o, "backward")) {
    const std::string bp = at(path, "backward");
    const json& bo = object(*b, bp, {"metric", "hooks"});
    p.backward = Backward{read_string(required(bo, bp, "metric"), at(bp, "metric")),
                          read_strings(required(bo, bp, "hooks"), at(bp, "hooks"))};
  }
  opt(o, path, "slices", p.slices,
      [](const json& l, const std::string& lp) { return read_list(l, lp, read_slice); });
  opt(o, path, "annotations", p.annotations, read_annotations);
  return p;
}

TokenBatch read_batch(const json& v, const std::string& path) {
  const json& o = object(v, path, {"name", "rows", "pad_side", "equal_lengths"});
  TokenBatch b;
  b.name = read_string(required(o, path, "name"), at(path, "name"));
  b.rows = read_int_rows(required(o, path, "rows"), at(path, "rows"));
  if (const json* side = field(o, "pad_side")) {
    const std::string name = read_string(*side, at(path, "pad_side"));
    auto parsed = parse_pad_side(name);
    if (!parsed) throw PlanError(at(path, "pad_side"), "expected \"left\" or \"right\"");
    b.pad_side = *parsed;
  }
  opt(o, path, "equal_lengths", b.equal_lengths, read_bool);
  return b;
}

Sweep read_sweep(const json& v, const std::string& path) {
  const json& o = object(v, path, {"name", "target_pass", "intervention", "layers", "heads",
                                   "positions"});
  Sweep s;
  s.name = read_string(required(o, path, "name"), at(path, "name"));
  s.target_pass = read_string(required(o, path, "target_pass"), at(path, "target_pass"));
  s.intervention = read_intervention(required(o, path, "intervention"), at(path, "intervention"));
  opt(o, path, "layers", s.layers, read_ints);
  opt(o, path, "heads", s.heads, read_ints);
  opt(o, path, "positions", s.positions, read_ints);
  return s;
}

Analysis read_analysis(const json& v, const std::string& path) {
  const json& o = object(v, path, {"name", "kind", "batch", "corrupt_batch", "metric", "nodes", "receivers",
                                   "edges", "edge_scores", "positions", "ablation", "top", "steps", "threshold"});
  Analysis a;
  a.name = read_string(required(o, path, "name"), at(path, "name"));
  const std::string kind = read_string(required(o, path, "kind"), at(path, "kind"));
  auto parsed = parse_analysis_kind(kind);
  if (!parsed) throw PlanError(at(path, "kind"), "unknown analysis kind '" + kind + "'");
  a.kind = *parsed;
  a.batch = read_string(required(o, path, "batch"), at(path, "batch"));
  opt(o, path, "corrupt_batch", a.corrupt_batch, read_string);
  if (const json* m = field(o, "metric")) a.metric = read_metric(*m, at(path, "metric"));
  opt(o, path, "nodes", a.nodes, read_strings);
  opt(o, path, "receivers", a.receivers, read_strings);
  opt(o, path, "edges", a.edges, read_strings);
  opt(o, path, "edge_scores", a.edge_scores,
      [](const json& l, const std::string& lp) { return read_list(l, lp, read_double); });
  opt(o, path, "positions", a.positions, read_positions);
  if (const json* ab = field(o, "ablation")) {
    const std::string name = read_string(*ab, at(path, "ablation"));
    auto parsed_ablation = parse_ablation(name);
    if (!parsed_ablation) throw PlanError(at(path, "ablation"), "expected \"patch\", \"mean\" or \"zero\"");
    a.ablation = *parsed_ablation;
  }
  opt(o, path, "top", a.top, read_int);
  opt(o, path, "steps", a.steps, read_int);
  opt(o, path, "threshold", a.threshold, read_double);
  return a;
}

Claim read_claim(const json& v, const std::string& path) {
  const json& o = object(v, path, {"name", "expression", "comparator", "threshold", "experiment", "constant",
                                   "location"});
  Claim c;
  c.name = read_string(required(o, path, "name"), at(path, "name"));
  c.expression = read_string(required(o, path, "expression"), at(path, "expression"));
  c.comparator = read_string(required(o, path, "comparator"), at(path, "comparator"));
  c.threshold = read_double(required(o, path, "threshold"), at(path, "threshold"));
  opt(o, path, "experiment", c.experiment, read_string);
  if (const json* k = field(o, "constant")) c.constant = read_double(*k, at(path, "constant"));
  opt(o, path, "location", c.location, read_string);
  return c;
}

Experiment read_experiment(const json& v, const std::string& path) {
  const json& o = object(v, path, {"name", "kind", "passes", "sweeps", "report", "analyses"});
  Experiment e;
  e.name = read_string(required(o, path, "name"), at(path, "name"));
  opt(o, path, "kind", e.kind, read_string);
  opt(o, path, "passes", e.passes, read_strings);
  opt(o, path, "sweeps", e.sweeps, read_strings);
  opt(o, path, "report", e.report, read_bool);
  opt(o, path, "analyses", e.analyses, read_strings);
  return e;
}

ModelShape read_model(const json& v, const std::string& path) {
  const json& o = object(v, path, {"name", "family", "n_layers", "n_heads", "n_kv_heads",
                                   "d_model", "d_head", "d_mlp", "d_vocab", "n_ctx"});
  ModelShape m;
  opt(o, path, "name", m.name, read_string);
  m.family = read_string(required(o, path, "family"), at(path, "family"));
  auto dim = [&](const char* key, int& out) { out = read_int(required(o, path, key), at(path, key)); };
  dim("n_layers", m.n_layers);
  dim("n_heads", m.n_heads);
  dim("d_model", m.d_model);
  dim("d_head", m.d_head);
  dim("d_vocab", m.d_vocab);
  dim("n_ctx", m.n_ctx);
  m.n_kv_heads = m.n_heads;
  opt(o, path, "n_kv_heads", m.n_kv_heads, read_int);
  opt(o, path, "d_mlp", m.d_mlp, read_int);
  return m;
}

}  // namespace

nlohmann::json plan_to_json(const HookPlan& plan) {
  const ModelShape& m = plan.model;
  json model = {{"name", m.name},       {"family", m.family},   {"n_layers", m.n_layers},
                {"n_heads", m.n_heads}, {"n_kv_heads", m.n_kv_heads}, {"d_model", m.d_model},
                {"d_head", m.d_head},   {"d_mlp", m.d_mlp},     {"d_vocab", m.d_vocab},
                {"n_ctx", m.n_ctx}};
  json out = {{"format", kPlanFormat}, {"version", kPlanVersion}};
  if (!plan.source.empty()) out["source"] = plan.source;
  out["model"] = std::move(model);
  json batches = json::array();
  for (const TokenBatch& b : plan.batches) {
    json batch = {{"name", b.name}, {"rows", b.rows}};
    if (b.pad_side != PadSide::Right) batch["pad_side"] = pad_side_name(b.pad_side);
    if (b.equal_lengths) batch["equal_lengths"] = true;
    batches.push_back(std::move(batch));
  }
  out["batches"] = std::move(batches);
  json passes = json::array();
  for (const Pass& p : plan.passes) passes.push_back(pass_to_json(p));
  out["passes"] = std::move(passes);
  if (!plan.sweeps.empty()) {
    json sweeps = json::array();
    for (const Sweep& s : plan.sweeps) {
      json sweep = {{"name", s.name}, {"target_pass", s.target_pass},
                    {"intervention", intervention_to_json(s.intervention)}};
      if (!s.layers.empty()) sweep["layers"] = s.layers;
      if (!s.heads.empty()) sweep["heads"] = s.heads;
      if (!s.positions.empty()) sweep["positions"] = s.positions;
      sweeps.push_back(std::move(sweep));
    }
    out["sweeps"] = std::move(sweeps);
  }
  if (!plan.experiments.empty()) {
    json experiments = json::array();
    for (const Experiment& e : plan.experiments) {
      json exp = {{"name", e.name}};
      if (!e.kind.empty()) exp["kind"] = e.kind;
      if (!e.passes.empty()) exp["passes"] = e.passes;
      if (!e.sweeps.empty()) exp["sweeps"] = e.sweeps;
      if (!e.report) exp["report"] = false;
      if (!e.analyses.empty()) exp["analyses"] = e.analyses;
      experiments.push_back(std::move(exp));
    }
    out["experiments"] = std::move(experiments);
  }
  if (!plan.analyses.empty()) {
    json analyses = json::array();
    for (const Analysis& a : plan.analyses) analyses.push_back(analysis_to_json(a));
    out["analyses"] = std::move(analyses);
  }
  if (!plan.claims.empty()) {
    json claims = json::array();
    for (const Claim& c : plan.claims) claims.push_back(claim_to_json(c));
    out["claims"] = std::move(claims);
  }
  return out;
}

HookPlan plan_from_json(const nlohmann::json& j) {
  const json& o = object(j, "", {"format", "version", "source", "model", "batches", "passes",
                                 "sweeps", "experiments", "analyses", "claims"});
  const std::string format = read_string(required(o, "", "format"), "format");
  if (format != kPlanFormat)
    throw PlanError("format", "expected \"" + std::string(kPlanFormat) + "\", got \"" + format + "\"");
  const int64_t version = read_int64(required(o, "", "version"), "version", 0, INT32_MAX);
  if (version != kPlanVersion)
    throw PlanError("version", "unsupported version " + std::to_string(version) +
                                   " (this build reads version " + std::to_string(kPlanVersion) + ")");
  HookPlan plan;
  opt(o, "", "source", plan.source, read_string);
  plan.model = read_model(required(o, "", "model"), "model");
  plan.batches = read_list(required(o, "", "batches"), "batches", read_batch);
  plan.passes = read_list(required(o, "", "passes"), "passes", read_pass);
  opt(o, "", "sweeps", plan.sweeps,
      [](const json& l, const std::string& lp) { return read_list(l, lp, read_sweep); });
  opt(o, "", "experiments", plan.experiments,
      [](const json& l, const std::string& lp) { return read_list(l, lp, read_experiment); });
  opt(o, "", "analyses", plan.analyses,
      [](const json& l, const std::string& lp) { return read_list(l, lp, read_analysis); });
  opt(o, "", "claims", plan.claims,
      [](const json& l, const std::string& lp) { return read_list(l, lp, read_claim); });
  return plan;
}

HookPlan parse_plan(std::string_view text) {
  json j;
  try {
    bool too_deep = false;
    std::string duplicate;
    // Keys seen in each open object: a repeated key would make readers disagree on the value.
    std::vector<std::set<std::string>> keys;
    j = json::parse(
        text.begin(), text.end(),
        [&](int depth, json::parse_event_t event, json& parsed) {
          if (depth > kMaxDepth) too_deep = true;
          if (too_deep || !duplicate.empty()) return false;  // stop keeping values; reported below
          if (event == json::parse_event_t::object_start) keys.emplace_back();
          if (event == json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
          if (event == json::parse_event_t::key && !keys.empty() &&
              !keys.back().insert(parsed.get<std::string>()).second)
            duplicate = parsed.get<std::string>();
          return duplicate.empty();
        },
        /*allow_exceptions=*/true);
    if (too_deep)
      throw PlanError("json", "nested deeper than " + std::to_string(kMaxDepth) + " levels");
    if (!duplicate.empty()) throw PlanError("json", "duplicate key '" + duplicate + "'");
  } catch (const json::exception& e) {
    throw PlanError("json", e.what());
  }
  return plan_from_json(j);
}

std::string dump_plan(const HookPlan& plan) {
  return plan_to_json(plan).dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace circuit::plan
