// Helpers of the node-analysis tests: plan batches and analyses built in code, a context that
// owns what AnalysisContext refers to, the embedded induction-2l model, and direct metric reads.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "compiler/plan/hook_plan.h"
#include "runtime/analysis/analysis_context.h"
#include "runtime/exec/plan_executor.h"
#include "runtime/formats/model_source.h"
#include "runtime/model/hooked_model.h"

namespace circuit::rt::testing {

// Owns the plan data an AnalysisContext points at.
struct AnalysisCase {
  plan::Analysis analysis;
  plan::TokenBatch clean;
  plan::TokenBatch corrupt;
  bool has_corrupt = false;
  ExecutionOptions options;

  AnalysisContext context(const HookedModel& model) const {
    return AnalysisContext{model, analysis, clean, has_corrupt ? &corrupt : nullptr, options};
  }
};

inline plan::TokenBatch plan_batch(std::string name, std::vector<std::vector<std::int32_t>> rows,
                                   plan::PadSide side = plan::PadSide::Left) {
  plan::TokenBatch b;
  b.name = std::move(name);
  b.rows = std::move(rows);
  b.pad_side = side;
  return b;
}

// Random prompts of the given lengths over ids [low, high).
inline std::vector<std::vector<std::int32_t>> random_prompts(const std::vector<int>& lengths, int low, int high,
                                                             std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> id(low, high - 1);
  std::vector<std::vector<std::int32_t>> rows;
  for (int n : lengths) {
    std::vector<std::int32_t> row(n);
    for (auto& t : row) t = id(rng);
    rows.push_back(row);
  }
  return rows;
}

inline plan::Metric logit_diff_metric(std::int64_t rows, int vocab, std::uint32_t seed, bool normalize = false) {
  plan::Metric m;
  m.name = "ld";
  m.kind = plan::MetricKind::LogitDiff;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> id(0, vocab - 1);
  for (std::int64_t r = 0; r < rows; ++r) {
    m.answers.push_back(id(rng));
    m.wrong_answers.push_back((m.answers.back() + 1 + id(rng) % (vocab - 1)) % vocab);
  }
  if (normalize) m.normalize = plan::Normalize{"clean", "corrupt"};
  return m;
}

inline HookedModel induction_model() {
  const std::string dir = std::string(CIRCUIT_SOURCE_DIR) + "/models";
  return HookedModel::load(formats::resolve_model("induction-2l", dir));
}

// [BOS] s s with |s| = half, tokens of s drawn from printable ASCII (as the model was trained).
inline std::vector<std::vector<std::int32_t>> repeated_prompts(int rows, int half, std::uint32_t seed) {
  auto s = random_prompts(std::vector<int>(rows, half), 32, 127, seed);
  for (auto& row : s) {
    std::vector<std::int32_t> full{0};
    full.insert(full.end(), row.begin(), row.end());
    full.insert(full.end(), row.begin(), row.end());
    row = full;
  }
  return s;
}

}  // namespace circuit::rt::testing
