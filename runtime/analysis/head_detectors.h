// Head detectors: a score per attention head for a known attention behaviour (previous token, induction, duplicate token) measured on the analysis's prompts, and the copying score of each head's OV circuit. Part of the runtime's analysis stage.
#pragma once

#include "runtime/analysis/analysis_context.h"

namespace circuit::rt {

AnalysisResult previous_token_score(const AnalysisContext& context);
AnalysisResult induction_score(const AnalysisContext& context);
AnalysisResult duplicate_token_score(const AnalysisContext& context);
AnalysisResult copying_score(const AnalysisContext& context);

}  // namespace circuit::rt
