// The dispatcher is a table, one row per plan::AnalysisKind; adding an analysis is a row here
// and a module beside it.
#include "runtime/analysis/run_analysis.h"

#include <stdexcept>
#include <string>
#include <utility>

#include "runtime/analysis/acdc.h"
#include "runtime/analysis/attribution_patching.h"
#include "runtime/analysis/circuit_measures.h"
#include "runtime/analysis/direct_logit_attribution.h"
#include "runtime/analysis/eap.h"
#include "runtime/analysis/head_detectors.h"
#include "runtime/analysis/logit_lens.h"
#include "runtime/analysis/path_patching.h"

namespace circuit::rt {
namespace {

using plan::AnalysisKind;

constexpr std::pair<AnalysisKind, AnalysisFunction> kModules[] = {
    {AnalysisKind::PreviousTokenScore, &previous_token_score},
    {AnalysisKind::InductionScore, &induction_score},
    {AnalysisKind::DuplicateTokenScore, &duplicate_token_score},
    {AnalysisKind::CopyingScore, &copying_score},
    {AnalysisKind::LogitLens, &logit_lens},
    {AnalysisKind::Dla, &direct_logit_attribution},
    {AnalysisKind::PathPatching, &path_patching},
    {AnalysisKind::AttributionPatching, &attribution_patching},
    {AnalysisKind::Eap, &edge_attribution_patching},
    {AnalysisKind::EapIg, &edge_attribution_patching},
    {AnalysisKind::Acdc, &acdc},
    {AnalysisKind::Faithfulness, &faithfulness},
    {AnalysisKind::Completeness, &completeness},
    {AnalysisKind::Minimality, &minimality},
    {AnalysisKind::CircuitCurve, &circuit_curve},
};

std::string analysis_label(const plan::HookPlan& plan, const plan::Analysis& analysis) {
  for (size_t i = 0; i < plan.analyses.size(); ++i)
    if (&plan.analyses[i] == &analysis || plan.analyses[i].name == analysis.name)
      return "analyses[" + std::to_string(i) + "] '" + analysis.name + "'";
  return "analysis '" + analysis.name + "'";
}

}  // namespace

AnalysisResult run_analysis(const HookedModel& model, const plan::HookPlan& plan, const plan::Analysis& analysis,
                            const ExecutionOptions& options) {
  const std::string label = analysis_label(plan, analysis);
  const plan::TokenBatch* clean = plan::find_batch(plan, analysis.batch);
  if (!clean) throw std::invalid_argument(label + ": no batch named '" + analysis.batch + "'");
  const plan::TokenBatch* corrupt = nullptr;
  if (!analysis.corrupt_batch.empty()) {
    corrupt = plan::find_batch(plan, analysis.corrupt_batch);
    if (!corrupt) throw std::invalid_argument(label + ": no batch named '" + analysis.corrupt_batch + "'");
  }
  for (const auto& [kind, module] : kModules) {
    if (kind != analysis.kind) continue;
    const AnalysisContext context{model, analysis, *clean, corrupt, options};
    try {
      AnalysisResult result = module(context);
      result.name = analysis.name;
      result.kind = analysis.kind;
      return result;
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      if (what.rfind("analyses[", 0) == 0) throw;
      throw std::invalid_argument(label + ": " + what);
    }
  }
  throw std::invalid_argument(label + ": no module runs '" + plan::analysis_kind_name(analysis.kind) + "'");
}

}  // namespace circuit::rt
