// Conversions between a plan's ModelShape and the formats layer's ModelConfig, so the plan
// validator can resolve hook names with the shared hook-point table. Part of the hook-plan layer.
#pragma once

#include <optional>

#include "compiler/plan/hook_plan.h"
#include "runtime/formats/model_config.h"

namespace circuit::plan {

// The shape a plan records for a model (lowering calls this on the checked model).
ModelShape model_shape_of(const formats::ModelConfig& config);

// A ModelConfig with the shape's sizes and its family's architecture (norm, positions, MLP,
// parallel residual) — all the hook-point table needs. nullopt for an unknown family name.
std::optional<formats::ModelConfig> model_config_for(const ModelShape& shape);

}  // namespace circuit::plan
