// Fuzz target for the hook-plan reader and validator: arbitrary bytes are parsed as JSON,
// read as a plan and validated; a plan that validates is optimized and must still validate and
// round-trip through JSON. Bad input must end in PlanError, never a crash or another exception.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "compiler/optimize/optimize_plan.h"
#include "compiler/plan/plan_error.h"
#include "compiler/plan/plan_json.h"
#include "compiler/plan/validate_plan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace circuit::plan;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  HookPlan plan;
  try {
    plan = parse_plan(text);
  } catch (const PlanError&) {
    return 0;
  }
  // Small limits keep every input's work bounded (a fuzzer may ask for huge sweeps).
  PlanLimits limits;
  limits.max_passes = 2000;
  limits.max_total_tokens = 1 << 20;
  limits.max_rows_per_batch = 256;
  if (!check_plan(plan, limits).empty()) return 0;
  OptimizeOptions options;
  options.max_batch_rows = 16;
  const HookPlan optimized = optimize_plan(plan, options);
  if (!check_plan(optimized).empty()) std::abort();  // the optimizer broke a valid plan
  if (parse_plan(dump_plan(optimized)) != optimized) std::abort();  // not a lossless round trip
  return 0;
}
