// Test fixture of the recovery suite: loads a known-circuit model (models/known-*, written by
// scripts/make_known_models.py) with its task and its true edges from circuit.json, and builds
// the plan::Analysis the runtime's analyses take. Header-only: the suite's CMakeLists compiles
// only *_test.cpp.
#pragma once

#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compiler/plan/hook_plan.h"
#include "runtime/analysis/analysis_context.h"
#include "runtime/formats/model_source.h"
#include "runtime/model/hooked_model.h"

namespace circuit::rt::testing {

inline std::string model_dir(const std::string& name) { return std::string(CIRCUIT_SOURCE_DIR) + "/models/" + name; }

// The byte-level tokenizer of the attention-only toy models: BOS (id 0), then one id per byte.
inline std::vector<std::int32_t> byte_tokens(const std::string& text) {
  std::vector<std::int32_t> ids{0};
  for (unsigned char c : text) ids.push_back(static_cast<std::int32_t>(c));
  return ids;
}

// One model, loaded once per test binary (they are immutable once loaded).
inline const HookedModel& load_model(const std::string& name) {
  static std::map<std::string, std::unique_ptr<HookedModel>> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    RuntimeOptions options;
    options.threads = 1;  // tiny models: threads only contend on the shared CI cores
    const formats::ModelSource source = formats::resolve_model(model_dir(name), formats::models_folder(CIRCUIT_SOURCE_DIR));
    it = cache.emplace(name, std::make_unique<HookedModel>(HookedModel::load(source, options))).first;
  }
  return *it->second;
}

// A known-circuit model's task (clean / corrupt pairs, answers, wrong answers) and true edges,
// as its circuit.json records them.
struct KnownTask {
  plan::TokenBatch clean, corrupt;
  plan::Metric metric;  // logit_diff(answer, wrong answer) at the last token
  std::set<std::string> true_edges;
};

inline KnownTask load_known_task(const std::string& name) {
  const std::string path = model_dir(name) + "/circuit.json";
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open");
  const nlohmann::json doc = nlohmann::json::parse(in);
  KnownTask task;
  task.clean.name = "clean";
  task.corrupt.name = "corrupt";
  task.metric.name = "logit_diff";
  task.metric.kind = plan::MetricKind::LogitDiff;
  const auto& t = doc.at("task");
  for (std::size_t i = 0; i < t.at("pairs").size(); ++i) {
    task.clean.rows.push_back(byte_tokens(t["pairs"][i].at("clean").get<std::string>()));
    task.corrupt.rows.push_back(byte_tokens(t["pairs"][i].at("corrupt").get<std::string>()));
    task.metric.answers.push_back(byte_tokens(t.at("answers")[i].get<std::string>()).at(1));
    task.metric.wrong_answers.push_back(byte_tokens(t.at("wrong_answers")[i].get<std::string>()).at(1));
  }
  for (const auto& e : doc.at("edges"))
    if (e.at("in_circuit").get<bool>()) task.true_edges.insert(e.at("id").get<std::string>());
  return task;
}

inline plan::Analysis make_analysis(const std::string& name, plan::AnalysisKind kind, const KnownTask& task) {
  plan::Analysis a;
  a.name = name;
  a.kind = kind;
  a.batch = task.clean.name;
  a.corrupt_batch = task.corrupt.name;
  a.metric = task.metric;
  a.ablation = plan::Ablation::Patch;
  return a;
}

}  // namespace circuit::rt::testing
