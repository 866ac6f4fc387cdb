#include "compiler/plan/hook_plan.h"

#include <array>
#include <utility>

namespace circuit::plan {
namespace {

constexpr std::array<std::pair<Action, const char*>, 8> kActions{{
    {Action::Replace, "replace"},
    {Action::Add, "add"},
    {Action::Scale, "scale"},
    {Action::Zero, "zero"},
    {Action::PatchFrom, "patch_from"},
    {Action::MeanAblate, "mean_ablate"},
    {Action::ResampleAblate, "resample_ablate"},
    {Action::Freeze, "freeze"},
}};

constexpr std::array<std::pair<MetricKind, const char*>, 5> kMetrics{{
    {MetricKind::LogitDiff, "logit_diff"},
    {MetricKind::Logprob, "logprob"},
    {MetricKind::Prob, "prob"},
    {MetricKind::Kl, "kl"},
    {MetricKind::Accuracy, "accuracy"},
}};

constexpr std::array<std::pair<AnalysisKind, const char*>, 15> kAnalyses{{
    {AnalysisKind::PreviousTokenScore, "previous_token_score"},
    {AnalysisKind::InductionScore, "induction_score"},
    {AnalysisKind::DuplicateTokenScore, "duplicate_token_score"},
    {AnalysisKind::CopyingScore, "copying_score"},
    {AnalysisKind::LogitLens, "logit_lens"},
    {AnalysisKind::Dla, "dla"},
    {AnalysisKind::PathPatching, "path_patching"},
    {AnalysisKind::AttributionPatching, "attribution_patching"},
    {AnalysisKind::Eap, "eap"},
    {AnalysisKind::EapIg, "eap_ig"},
    {AnalysisKind::Acdc, "acdc"},
    {AnalysisKind::Faithfulness, "faithfulness"},
    {AnalysisKind::Completeness, "completeness"},
    {AnalysisKind::Minimality, "minimality"},
    {AnalysisKind::CircuitCurve, "circuit_curve"},
}};

constexpr std::array<std::pair<Ablation, const char*>, 3> kAblations{{
    {Ablation::Patch, "patch"},
    {Ablation::Mean, "mean"},
    {Ablation::Zero, "zero"},
}};

template <typename Enum, size_t N>
const char* name_of(const std::array<std::pair<Enum, const char*>, N>& table, Enum value) {
  for (const auto& [v, name] : table)
    if (v == value) return name;
  return "?";
}

template <typename Enum, size_t N>
std::optional<Enum> parse_name(const std::array<std::pair<Enum, const char*>, N>& table,
                               std::string_view name) {
  for (const auto& [v, spelled] : table)
    if (name == spelled) return v;
  return std::nullopt;
}

template <typename Vec>
auto find_named(Vec& items, std::string_view name) -> decltype(&items[0]) {
  for (auto& item : items)
    if (item.name == name) return &item;
  return nullptr;
}

}  // namespace

const char* action_name(Action action) { return name_of(kActions, action); }
const char* metric_kind_name(MetricKind kind) { return name_of(kMetrics, kind); }
const char* analysis_kind_name(AnalysisKind kind) { return name_of(kAnalyses, kind); }
const char* ablation_name(Ablation ablation) { return name_of(kAblations, ablation); }
const char* pad_side_name(PadSide side) { return side == PadSide::Left ? "left" : "right"; }

std::optional<Action> parse_action(std::string_view name) { return parse_name(kActions, name); }
std::optional<MetricKind> parse_metric_kind(std::string_view name) {
  return parse_name(kMetrics, name);
}
std::optional<AnalysisKind> parse_analysis_kind(std::string_view name) {
  return parse_name(kAnalyses, name);
}
std::optional<Ablation> parse_ablation(std::string_view name) { return parse_name(kAblations, name); }
std::optional<PadSide> parse_pad_side(std::string_view name) {
  if (name == "right") return PadSide::Right;
  if (name == "left") return PadSide::Left;
  return std::nullopt;
}

const TokenBatch* find_batch(const HookPlan& plan, std::string_view name) {
  return find_named(plan.batches, name);
}
const Pass* find_pass(const HookPlan& plan, std::string_view name) {
  return find_named(plan.passes, name);
}
Pass* find_pass(HookPlan& plan, std::string_view name) { return find_named(plan.passes, name); }
const Sweep* find_sweep(const HookPlan& plan, std::string_view name) {
  return find_named(plan.sweeps, name);
}

const Analysis* find_analysis(const HookPlan& plan, std::string_view name) {
  return find_named(plan.analyses, name);
}

int pass_row_count(const HookPlan& plan, const Pass& pass) {
  if (pass.n_rows > 0) return pass.n_rows;
  const TokenBatch* batch = find_batch(plan, pass.batch);
  return batch ? static_cast<int>(batch->rows.size()) : 0;
}

int64_t sweep_item_count(const Sweep& sweep) {
  // Saturates instead of overflowing: a hostile plan may list millions of values per axis.
  constexpr int64_t kMax = int64_t{1} << 62;
  int64_t count = 1;
  for (size_t axis : {sweep.layers.size(), sweep.heads.size(), sweep.positions.size()})
    if (axis > 0) count = static_cast<int64_t>(axis) > kMax / count ? kMax : count * static_cast<int64_t>(axis);
  return count;
}

}  // namespace circuit::plan
