#include "run/run_session.h"

#include <chrono>
#include <ostream>

#include "compiler/check/model_provider.h"
#include "compiler/diagnostics/render.h"
#include "compiler/driver/compilation.h"
#include "compiler/format/formatter.h"
#include "compiler/lower/lower.h"
#include "compiler/optimize/optimize_plan.h"
#include "compiler/plan/validate_plan.h"
#include "compiler/resolve/program.h"
#include "run/measurements.h"
#include "runtime/exec/executable_plan.h"
#include "runtime/exec/memory_ledger.h"
#include "runtime/exec/plan_executor.h"
#include "runtime/exec/run_memory.h"

namespace circuit::cli::run {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// True when the plan holds an experiment or claim that no earlier stage ran.
bool has_new_work(const plan::HookPlan& plan, const compiler::MeasuredValues& measured) {
  for (const auto& e : plan.experiments)
    if (!measured.done.count(e.name)) return true;
  for (const auto& claim : plan.claims)
    if (!measured.done.count(claim.name)) return true;
  // A plan without experiments still runs its passes (a bare measure), once.
  return plan.experiments.empty() && plan.claims.empty() && (!plan.passes.empty() || !plan.analyses.empty()) &&
         measured.done.empty();
}

// The optimizer's passes a run uses: all of them, or (-O0) only the sweeps' expansion.
plan::OptimizeOptions optimizer_for(const RunOptions& options) {
  plan::OptimizeOptions optimizer;
  if (!options.optimize)
    for (plan::OptimizePass pass : plan::optimize_pass_order())
      if (pass != plan::OptimizePass::ExpandSweeps) optimizer.disabled.insert(pass);
  return optimizer;
}

}  // namespace

std::unique_ptr<compiler::Compilation> compile_for_run(const std::string& path, const std::string& model_override,
                                                       std::ostream& diagnostics) {
  using namespace circuit::compiler;
  // The provider must outlive the compilation, which points at its ModelInfo.
  static FolderModelProvider models(default_models_dir());
  CompileOptions options;
  options.load.search_path = default_search_path();
  options.model_override = model_override;
  options.models = &models;
  return compile_for_run(path, options, diagnostics);
}

std::unique_ptr<compiler::Compilation> compile_for_run(const std::string& path, const compiler::CompileOptions& options,
                                                       std::ostream& diagnostics) {
  using namespace circuit::compiler;
  auto c = check_file(path, options);
  diagnostics << render_text(c->diagnostics.all());
  if (c->diagnostics.has_errors()) {
    const int n = c->diagnostics.error_count();
    throw RunError(path + ": does not compile (" + std::to_string(n) + (n == 1 ? " error)" : " errors)"));
  }
  return c;
}

std::string model_name_of(const compiler::Compilation& c) { return c.model ? c.model->name : std::string(); }

std::vector<WrittenClaim> written_claims(const compiler::Compilation& c) {
  std::vector<WrittenClaim> claims;
  const auto* main = c.program.main();
  if (!main) return claims;
  for (const auto& decl : main->file.decls) {
    if (decl.kind != compiler::ast::DeclKind::Expect || !decl.value || !decl.bound) continue;
    WrittenClaim w;
    w.name = compiler::claim_name(main->file, decl);  // as lowering names the claim
    w.expression = compiler::format_expr(*decl.value);
    w.comparator = compiler::ast::comparator_text(decl.comparator);
    w.bound = compiler::format_expr(*decl.bound);
    w.location = std::string(decl.span.source ? decl.span.source->path : std::string()) + ":" +
                 std::to_string(decl.span.line) + ":" + std::to_string(decl.span.col);
    claims.push_back(std::move(w));
  }
  return claims;
}

int RunOutcome::forwards() const {
  int n = 0;
  for (const auto& s : stages) n += s.results.forwards;
  return n;
}

int RunOutcome::backwards() const {
  int n = 0;
  for (const auto& s : stages) n += s.results.backwards;
  return n;
}

bool RunOutcome::all_claims_passed() const {
  if (!unmeasured.empty()) return false;
  for (const auto& claim : claims)
    if (!claim.passed) return false;
  return true;
}

void check_budget_before_loading(const compiler::Compilation& c, const RunOptions& options, int element_bytes) {
  if (options.memory_budget_bytes <= 0) return;
  compiler::Diagnostics lowering;
  plan::HookPlan lowered = compiler::lower_program(c, lowering, compiler::MeasuredValues{}, /*report_pending=*/false);
  if (lowering.has_errors() || !has_new_work(lowered, compiler::MeasuredValues{})) return;
  plan::validate_plan(lowered);
  const plan::HookPlan plan = rt::executable_plan(plan::optimize_plan(std::move(lowered), optimizer_for(options)));
  rt::ExecutionOptions exec;
  exec.memory_budget_bytes = options.memory_budget_bytes;
  exec.reuse_caches = options.optimize;
  rt::check_kept_bytes(plan, element_bytes, exec);
}

RunOutcome run_compiled(const compiler::Compilation& c, const rt::HookedModel& model, const RunOptions& options,
                        std::ostream& diagnostics) {
  const auto start = std::chrono::steady_clock::now();
  RunOutcome outcome;
  rt::ExecutionOptions exec;
  exec.memory_budget_bytes = options.memory_budget_bytes;
  exec.cancel = options.cancel;
  exec.progress = options.progress;
  exec.reuse_caches = options.optimize;
  const plan::OptimizeOptions optimizer = optimizer_for(options);
  for (int stage = 1;; ++stage) {
    compiler::Diagnostics lowering;
    plan::HookPlan lowered = compiler::lower_program(c, lowering, outcome.measured, /*report_pending=*/false);
    diagnostics << render_text(lowering.all());
    if (lowering.has_errors()) throw RunError("stage " + std::to_string(stage) + ": the file does not lower to a hook plan");
    if (!has_new_work(lowered, outcome.measured)) break;
    if (stage > options.max_stages)
      throw RunError("lowering still finds new experiments after " + std::to_string(options.max_stages) +
                     " stages; stopped");
    if (options.stage_started) options.stage_started(stage);
    const auto stage_start = std::chrono::steady_clock::now();
    plan::validate_plan(lowered);  // a lowering bug shows here, not deep in the executor
    Stage s;
    s.plan = plan::optimize_plan(std::move(lowered), optimizer);
    // Each stage's plan is checked against the budget before it runs, counting what the
    // earlier stages' results already hold.
    s.results = rt::execute_plan(model, s.plan, exec);
    exec.held_bytes += rt::results_bytes(s.results);
    record_measurements(s.plan, s.results, outcome.measured);
    for (const auto& claim : s.results.claims) outcome.claims.push_back(claim);
    s.seconds = seconds_since(stage_start);
    outcome.stages.push_back(std::move(s));
  }
  // What never ran: lowering's own account (W050), and the claims no stage measured.
  compiler::Diagnostics pending;
  compiler::lower_program(c, pending, outcome.measured, /*report_pending=*/true);
  outcome.pending = render_text(pending.all());
  for (auto& written : written_claims(c)) {
    bool measured = false;
    for (const auto& claim : outcome.claims) measured = measured || claim.name == written.name;
    if (!measured) outcome.unmeasured.push_back(std::move(written));
  }
  outcome.seconds = seconds_since(start);
  return outcome;
}

}  // namespace circuit::cli::run
