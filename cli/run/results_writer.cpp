#include "run/results_writer.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <limits>
#include <set>
#include <stdexcept>

#include "compiler/interchange/document_json.h"
#include "run/results_commit.h"
#include "runtime/exec/plan_executor.h"
#include "runtime/exec/plan_tensors.h"
#include "runtime/weights/save_safetensors.h"

namespace circuit::cli::run {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json scores_object(const rt::NamedScores& s) {
  json out = json::object();
  for (size_t i = 0; i < s.names.size() && i < s.values.size(); ++i) out[s.names[i]] = number(s.values[i]);
  return out;
}

json optional_int(const std::optional<int>& v) { return v ? json(*v) : json(nullptr); }

// `spec` (the plan's pass, when found) says which heads, rows and neurons a save holds, so a
// reader can label a save of some heads only.
json pass_json(const rt::PassResult& p, const plan::Pass* spec) {
  json metrics = json::array();
  for (const auto& m : p.metrics) {
    json rows = json::array();
    for (double v : m.per_row) rows.push_back(number(v));
    metrics.push_back({{"name", m.name}, {"kind", plan::metric_kind_name(m.kind)}, {"mean", number(m.mean)},
                       {"per_row", rows}});
  }
  json saves = json::array();
  for (const auto& [hook, t] : p.saves) {
    json save{{"hook", hook}, {"shape", t.shape}};
    if (spec) {
      for (const auto& s : spec->saves) {
        if (s.hook != hook || !s.output) continue;
        if (!s.select.heads.empty()) save["heads"] = s.select.heads;
        if (!s.select.rows.empty()) save["rows"] = s.select.rows;
        if (!s.select.neurons.empty()) save["neurons"] = s.select.neurons;
        if (spec->row_offset != 0 || spec->n_rows != 0)
          save["batch_rows"] = {spec->row_offset, spec->n_rows};
        break;
      }
    }
    saves.push_back(std::move(save));
  }
  return {{"name", p.name}, {"metrics", metrics}, {"saves", saves}};
}

json sweep_json(const rt::SweepResult& s) {
  json items = json::array();
  for (const auto& item : s.items)
    items.push_back({{"item", item.item}, {"layer", optional_int(item.layer)}, {"head", optional_int(item.head)},
                     {"position", optional_int(item.position)}, {"value", number(item.value)}});
  return {{"name", s.name}, {"hook", s.hook}, {"metric", s.metric}, {"items", items}};
}

// The text of every token id a tensor holds ("<id>" -> text; negative ids mark padding):
// the logit lens's top_tokens, which the viewer labels with the tokens they predict.
json token_text_of(const plan::Tensor& ids, const RunContext& context) {
  std::set<std::int32_t> seen;
  for (float v : ids.data)
    if (v >= 0 && std::isfinite(v)) seen.insert(static_cast<std::int32_t>(v));
  json out = json::object();
  for (auto id : seen) out[std::to_string(id)] = context.token_text(id);
  return out;
}

json analysis_json(const rt::AnalysisResult& a, const RunContext& context) {
  json out{{"name", a.name}, {"kind", plan::analysis_kind_name(a.kind)}};
  if (!a.nodes.names.empty()) out["nodes"] = scores_object(a.nodes);
  if (!a.edges.names.empty()) out["edges"] = scores_object(a.edges);
  if (!a.circuit.empty()) out["circuit"] = a.circuit;
  if (a.value) out["value"] = number(*a.value);
  if (!a.values.empty()) {
    json values = json::object();
    for (const auto& [k, v] : a.values) values[k] = number(v);
    out["values"] = values;
  }
  json tensors = json::object();
  for (const auto& [key, t] : a.tensors) tensors[key] = t.shape;
  if (!tensors.empty()) out["tensors"] = tensors;
  if (auto ids = a.tensors.find("top_tokens"); ids != a.tensors.end() && context.token_text)
    out["token_text"] = token_text_of(ids->second, context);
  return out;
}

json claim_json(const rt::ClaimResult& c) {
  return {{"name", c.name},         {"expression", c.expression}, {"comparator", c.comparator},
          {"threshold", c.threshold}, {"measured", number(c.measured)}, {"passed", c.passed},
          {"location", c.location}};
}

// A sweep's values as a dense [layers(, heads)(, positions)] tensor over the model's shape.
plan::Tensor sweep_tensor(const rt::SweepResult& s, const plan::ModelShape& shape) {
  bool heads = false;
  std::set<int> position_set;
  for (const auto& item : s.items) {
    heads = heads || item.head.has_value();
    if (item.position) position_set.insert(*item.position);
  }
  const std::vector<int> positions(position_set.begin(), position_set.end());
  plan::Tensor t;
  t.shape = {shape.n_layers};
  if (heads) t.shape.push_back(shape.n_heads);
  if (positions.size() > 1) t.shape.push_back(static_cast<int64_t>(positions.size()));
  int64_t size = 1;
  for (auto d : t.shape) size *= d;
  t.data.assign(static_cast<size_t>(size), std::numeric_limits<float>::quiet_NaN());
  for (const auto& item : s.items) {
    if (!item.layer || *item.layer < 0 || *item.layer >= shape.n_layers) continue;
    int64_t index = *item.layer;
    if (heads) {
      if (!item.head || *item.head < 0 || *item.head >= shape.n_heads) continue;
      index = index * shape.n_heads + *item.head;
    }
    if (positions.size() > 1) {
      const auto at = std::lower_bound(positions.begin(), positions.end(), item.position.value_or(0));
      index = index * static_cast<int64_t>(positions.size()) + (at - positions.begin());
    }
    t.data[static_cast<size_t>(index)] = static_cast<float>(item.value);
  }
  return t;
}

// The experiment each pass, sweep and analysis of a plan belongs to (its own name otherwise).
std::map<std::string, std::string> owners(const plan::HookPlan& plan) {
  std::map<std::string, std::string> owner;
  for (const auto& e : plan.experiments) {
    for (const auto& n : e.passes) owner.emplace(n, e.name);
    for (const auto& n : e.sweeps) owner.emplace(n, e.name);
    for (const auto& n : e.analyses) owner.emplace(n, e.name);
  }
  return owner;
}

std::string owner_of(const std::map<std::string, std::string>& owner, const std::string& name) {
  auto it = owner.find(name);
  return it == owner.end() ? name : it->second;
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw std::runtime_error(path.string() + ": cannot write the file");
}

// The batches an experiment ran on (its passes' and analyses'), in plan order.
std::vector<std::string> experiment_batches(const plan::HookPlan& plan, const plan::Experiment& e) {
  std::set<std::string> used;
  for (const auto& n : e.passes)
    for (const auto& p : plan.passes)
      if (p.name == n) used.insert(p.batch);
  for (const auto& n : e.sweeps)
    for (const auto& s : plan.sweeps)
      if (s.name == n)
        for (const auto& p : plan.passes)
          if (p.name == s.target_pass || p.name == s.intervention.source_pass) used.insert(p.batch);
  for (const auto& n : e.analyses)
    for (const auto& a : plan.analyses)
      if (a.name == n) {
        if (!a.batch.empty()) used.insert(a.batch);
        if (!a.corrupt_batch.empty()) used.insert(a.corrupt_batch);
      }
  std::vector<std::string> out;
  for (const auto& b : plan.batches)
    if (used.count(b.name)) out.push_back(b.name);
  return out;
}

}  // namespace

json results_to_json(const RunOutcome& outcome, const RunContext& context) {
  json experiments = json::array();
  json batches = json::object();  // what each prompt looks like, token by token (the viewer's labels)
  for (size_t si = 0; si < outcome.stages.size(); ++si) {
    const auto& stage = outcome.stages[si];
    for (const auto& e : stage.plan.experiments) {
      if (!e.report) continue;
      json ex{{"name", e.name}, {"kind", e.kind}, {"stage", si + 1}};
      const std::vector<std::string> used = experiment_batches(stage.plan, e);
      if (!used.empty()) ex["batches"] = used;
      for (const auto& name : used) {
        if (batches.contains(name) || !context.token_text) continue;
        for (const auto& b : stage.plan.batches) {
          if (b.name != name) continue;
          json rows = json::array();
          for (const auto& row : b.rows) {
            json tokens = json::array();
            for (auto id : row) tokens.push_back(context.token_text(id));
            rows.push_back(std::move(tokens));
          }
          batches[name] = {{"tokens", std::move(rows)}};
        }
      }
      json passes = json::array(), sweeps = json::array(), analyses = json::array();
      for (const auto& n : e.passes)
        if (const auto* p = stage.results.pass(n)) {
          const plan::Pass* spec = nullptr;
          for (const auto& candidate : stage.plan.passes)
            if (candidate.name == n) spec = &candidate;
          passes.push_back(pass_json(*p, spec));
        }
      for (const auto& n : e.sweeps)
        if (const auto* s = stage.results.sweep(n)) sweeps.push_back(sweep_json(*s));
      for (const auto& n : e.analyses)
        if (const auto* a = stage.results.analysis(n)) analyses.push_back(analysis_json(*a, context));
      if (!passes.empty()) ex["passes"] = passes;
      if (!sweeps.empty()) ex["sweeps"] = sweeps;
      if (!analyses.empty()) ex["analyses"] = analyses;
      if (auto v = outcome.measured.values.find(e.name); v != outcome.measured.values.end())
        ex["value"] = number(v->second);
      experiments.push_back(std::move(ex));
    }
  }
  json claims = json::array();
  for (const auto& c : outcome.claims) claims.push_back(claim_json(c));
  for (const auto& w : outcome.unmeasured)
    claims.push_back({{"name", w.name}, {"expression", w.expression}, {"comparator", w.comparator},
                      {"bound", w.bound}, {"measured", nullptr}, {"passed", false}, {"location", w.location}});
  json scores = json::object();
  for (const auto& [let, by_node] : outcome.measured.scores) {
    json s = json::object();
    for (const auto& [node, v] : by_node) s[node] = number(v);
    scores[let] = s;
  }
  json values = json::object();
  for (const auto& [name, v] : outcome.measured.values) values[name] = number(v);
  const auto& config = context.model.config;
  return {
      {"format", "circuitry.results"},
      {"version", 1},
      {"source", context.source_path},
      {"model", {{"name", context.model.name}, {"family", formats::family_name(config.family)},
                 {"n_layers", config.n_layers}, {"n_heads", config.n_heads}}},
      {"conditions", {{"device", context.device}, {"dtype", context.dtype}}},
      {"stages", outcome.stages.size()},
      {"forwards", outcome.forwards()},
      {"backwards", outcome.backwards()},
      {"seconds", outcome.seconds},
      {"experiments", experiments},
      {"batches", batches},
      {"scores", scores},
      {"values", values},
      {"circuits", outcome.measured.circuits},
      {"claims", claims},
      {"passed", outcome.all_claims_passed()},
  };
}

std::map<std::string, plan::Tensor> results_tensors(const RunOutcome& outcome) {
  std::map<std::string, plan::Tensor> tensors;
  for (const auto& stage : outcome.stages) {
    const auto owner = owners(stage.plan);
    for (const auto& s : stage.results.sweeps)
      tensors[owner_of(owner, s.name) + "/scores"] = sweep_tensor(s, stage.plan.model);
    for (const auto& a : stage.results.analyses)
      for (const auto& [key, t] : a.tensors) tensors[owner_of(owner, a.name) + "/" + key] = t;
    for (const auto& p : stage.results.passes) {
      const std::string prefix = owner_of(owner, p.name);
      for (const auto& [hook, t] : p.saves) {
        // Two passes of one experiment saving one hook: the second keeps its pass name.
        std::string key = prefix + "/" + hook;
        if (tensors.count(key)) key = prefix + "/" + p.name + "/" + hook;
        tensors[key] = t;
      }
      for (const auto& [hook, t] : p.gradients) tensors[prefix + "/grad/" + hook] = t;
    }
  }
  return tensors;
}

void write_results(const std::string& dir, const interchange::CircuitDocument& document, const json& results,
                   const std::map<std::string, plan::Tensor>& tensors, const std::atomic<bool>* cancel) {
  const std::vector<std::string> names = {"circuit.json", "results.json", "tensors.safetensors"};
  commit_folder(fs::path(dir), names, [&](const fs::path& folder) {
    write_text(folder / "circuit.json", interchange::document_to_json(document).dump(2) + "\n");
    commit_step(CommitStep::FileWritten, 0);
    write_text(folder / "results.json", results.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
    commit_step(CommitStep::FileWritten, 1);
    // The tensors are written from the results' own floats, not copied once more.
    std::map<std::string, at::Tensor> at_tensors;
    for (const auto& [name, t] : tensors) {
      if (static_cast<std::int64_t>(t.data.size()) != std::accumulate(t.shape.begin(), t.shape.end(), std::int64_t{1},
                                                                     std::multiplies<>()))
        throw std::runtime_error("tensor '" + name + "': its shape does not match its elements");
      at_tensors.emplace(name, at::from_blob(const_cast<float*>(t.data.data()), t.shape, at::kFloat));
    }
    rt::save_safetensors((folder / "tensors.safetensors").string(), at_tensors, {{"format", "circuitry.results"}});
    commit_step(CommitStep::FileWritten, 2);
  }, cancel);
}

}  // namespace circuit::cli::run
