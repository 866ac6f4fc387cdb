// RunSession: runs a .circuit file end to end, in stages: compile -> lower what is known ->
// validate -> optimize -> execute -> record the measurements -> lower again, until lowering has
// nothing new; then the claims. All data between the stages is plain (plans, PlanResults,
// MeasuredValues). Part of the run driver (cli/run), used by `circuit run` and `circuit test`.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "compiler/lower/measured_values.h"
#include "compiler/plan/hook_plan.h"
#include "runtime/exec/plan_results.h"

namespace circuit::compiler {
struct Compilation;
struct CompileOptions;
}
namespace circuit::rt {
class HookedModel;
}

namespace circuit::cli::run {

// A file that did not compile (its diagnostics were printed) or could not be run: one line.
struct RunError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Compiles `path` for a run (on `model_override` when not empty), printing every diagnostic
// to `diagnostics`; throws RunError("FILE: does not compile (N errors)") on errors.
std::unique_ptr<compiler::Compilation> compile_for_run(const std::string& path, const std::string& model_override,
                                                       std::ostream& diagnostics);
// Same with the caller's options: the server's bounded resolver and its model provider (which
// must outlive the compilation).
std::unique_ptr<compiler::Compilation> compile_for_run(const std::string& path, const compiler::CompileOptions& options,
                                                       std::ostream& diagnostics);

// The model name a compiled file runs on (its `model`, or --model).
std::string model_name_of(const compiler::Compilation& c);

// A claim in the main file (`expect ...`) as written, for claims that never got measured.
struct WrittenClaim {
  std::string name;        // "expect.LINE", as lowering names claims
  std::string expression;  // the left side as written
  std::string comparator;
  std::string bound;       // the right side as written
  std::string location;    // "file:line:col"
};
std::vector<WrittenClaim> written_claims(const compiler::Compilation& c);

struct Stage {
  plan::HookPlan plan;       // as executed (optimized)
  rt::PlanResults results;
  double seconds = 0;
};

struct RunOptions {
  // What the whole run may hold (every stage's results, and one forward): see rt::ExecutionOptions.
  std::int64_t memory_budget_bytes = std::int64_t{4} << 30;
  const std::atomic<bool>* cancel = nullptr;
  // Called with the stage number before it runs, then with the executor's progress.
  std::function<void(int stage)> stage_started;
  std::function<void(std::int64_t done, std::int64_t total, const std::string& what)> progress;
  int max_stages = 8;  // a guard against a lowering that keeps finding "new" work
  // false (-O0): no optimizer passes but expand_sweeps, and no cache reuse: one forward per
  // pass and sweep item, the baseline the optimizer is checked and measured against.
  bool optimize = true;
};

struct RunOutcome {
  std::vector<Stage> stages;
  compiler::MeasuredValues measured;
  std::vector<rt::ClaimResult> claims;      // every claim measured, in stage order
  std::vector<WrittenClaim> unmeasured;     // claims of the file that no stage measured
  std::string pending;  // lowering's W050 report of what could not run (empty when all ran)
  double seconds = 0;
  int forwards() const;
  int backwards() const;
  bool all_claims_passed() const;  // every measured claim passed and none is unmeasured
};

// What the first stage would keep, estimated from its plan alone and checked against
// options.memory_budget_bytes before the model is loaded, so that a run over the budget is
// refused in a moment and without its weights (`element_bytes`: the --dtype's, 4 or 2). Throws
// std::invalid_argument (one line); does nothing for a file that does not lower (run_compiled
// reports that).
void check_budget_before_loading(const compiler::Compilation& c, const RunOptions& options, int element_bytes);

// Runs every stage of a compiled file on `model` (already loaded). Lowering errors, invalid
// plans and executor errors throw (std::exception, one line); Ctrl-C (options.cancel) throws
// rt::ExecutionCancelled.
RunOutcome run_compiled(const compiler::Compilation& c, const rt::HookedModel& model, const RunOptions& options,
                        std::ostream& diagnostics);

}  // namespace circuit::cli::run
