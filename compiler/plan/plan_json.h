// The JSON form of a hook plan ("format": "circuitry.hookplan", "version": 1): a lossless
// round trip between HookPlan and nlohmann::json, described by schema/hookplan.schema.json.
// Part of the hook-plan layer; the compiler emits it, the executor and the server read it.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "compiler/plan/hook_plan.h"

namespace circuit::plan {

// Fields equal to their defaults are left out, so emitted plans stay small.
nlohmann::json plan_to_json(const HookPlan& plan);

// One pass's JSON object (as it appears in "passes"); dedupe_passes keys passes by it.
nlohmann::json pass_to_json(const Pass& pass);

// Reads a plan; unknown keys, wrong types and out-of-range numbers throw PlanError naming the
// JSON path. This checks form only: run validate_plan() for references, ranges and limits.
HookPlan plan_from_json(const nlohmann::json& json);

// Parses text (bounded nesting depth, so hostile input cannot exhaust the stack; no repeated
// key in an object, so every reader sees the same plan) and reads the plan. Throws PlanError ("json: <parser message>" for text that is not JSON).
HookPlan parse_plan(std::string_view text);

// Pretty-printed JSON text of a plan (2-space indent, trailing newline).
std::string dump_plan(const HookPlan& plan);

}  // namespace circuit::plan
