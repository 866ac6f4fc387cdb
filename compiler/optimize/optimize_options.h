// The optimizer's named passes, in the order the driver runs them, and the options every pass
// takes (memory budget, disabled passes, dump point). Part of the plan optimizer stage.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <set>
#include <string_view>
#include <vector>

namespace circuit::plan {

// One value per pass; optimize_pass_order() is the documented order (docs/hook-plans.md).
enum class OptimizePass {
  StackSweeps,             // sweeps -> batched passes, chunked to the memory budget
  ExpandSweeps,            // any sweep left (stacking disabled) -> one pass per item
  ShareCleanRuns,          // one clean run per input; freeze/ablation sources point at it
  DedupePasses,            // identical passes run once
  DropDead,                // unreported experiments and passes nothing reads
  PruneSaves,              // save exactly the hook points something reads
  AnnotateCacheReuse,      // first intervened layer/position + the clean run to reuse below it
  AnnotateLogitPositions,  // the positions the unembedding is needed at
};

struct OptimizeOptions {
  // Memory budget of one forward: at most this many rows, and (when > 0) at most this many
  // tokens counting every row at the longest row's length (padding included).
  int max_batch_rows = 32;
  int64_t max_batch_tokens = 0;
  // When true, annotate_cache_reuse adds a clean run to reuse when none exists and enough
  // intervened rows would use it (at least twice the batch's rows).
  bool add_clean_runs_for_reuse = true;
  std::set<OptimizePass> disabled;
  std::optional<OptimizePass> dump_after;  // print the plan's JSON after this pass ...
  std::ostream* dump_to = nullptr;         // ... to this stream (nullptr: std::cerr)
};

const std::vector<OptimizePass>& optimize_pass_order();
const char* optimize_pass_name(OptimizePass pass);  // "stack_sweeps", ...
std::optional<OptimizePass> parse_optimize_pass(std::string_view name);

}  // namespace circuit::plan
