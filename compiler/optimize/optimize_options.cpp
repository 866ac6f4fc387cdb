#include "compiler/optimize/optimize_options.h"

#include <array>
#include <utility>

namespace circuit::plan {
namespace {

constexpr std::array<std::pair<OptimizePass, const char*>, 8> kPasses{{
    {OptimizePass::StackSweeps, "stack_sweeps"},
    {OptimizePass::ExpandSweeps, "expand_sweeps"},
    {OptimizePass::ShareCleanRuns, "share_clean_runs"},
    {OptimizePass::DedupePasses, "dedupe_passes"},
    {OptimizePass::DropDead, "drop_dead"},
    {OptimizePass::PruneSaves, "prune_saves"},
    {OptimizePass::AnnotateCacheReuse, "annotate_cache_reuse"},
    {OptimizePass::AnnotateLogitPositions, "annotate_logit_positions"},
}};

}  // namespace

const std::vector<OptimizePass>& optimize_pass_order() {
  static const std::vector<OptimizePass> order = [] {
    std::vector<OptimizePass> out;
    for (const auto& [pass, _] : kPasses) out.push_back(pass);
    return out;
  }();
  return order;
}

const char* optimize_pass_name(OptimizePass pass) {
  for (const auto& [p, name] : kPasses)
    if (p == pass) return name;
  return "?";
}

std::optional<OptimizePass> parse_optimize_pass(std::string_view name) {
  for (const auto& [p, spelled] : kPasses)
    if (name == spelled) return p;
  return std::nullopt;
}

}  // namespace circuit::plan
