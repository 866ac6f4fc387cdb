// Optimizer benchmark: builds an all-heads activation-patching plan for SmolLM2-135M's shape
// (30 layers x 9 heads = 270 sweep items) over N prompts, runs the plan optimizer, and reports
// the forwards before and after, the rows per forward and the optimizer's time.
// Usage: optimizer_bench [--prompts N] [--max-batch ROWS] [--length TOKENS] [--repeats R]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "compiler/optimize/optimize_plan.h"
#include "compiler/plan/validate_plan.h"

namespace {

using namespace circuit::plan;

HookPlan all_heads_patching_plan(int prompts, int length) {
  HookPlan plan;
  plan.model = ModelShape{"SmolLM2-135M-Instruct", "llama", 30, 9, 3, 576, 64, 1536, 49152, 8192};
  plan.source = "bench/compiler/optimizer_bench";
  TokenBatch clean{.name = "clean"}, corrupt{.name = "corrupt"};
  Metric metric{.name = "logit_diff", .kind = MetricKind::LogitDiff};
  for (int r = 0; r < prompts; ++r) {
    std::vector<int32_t> a, b;
    for (int t = 0; t < length; ++t) {
      a.push_back(100 + (r * 37 + t * 11) % 40000);
      b.push_back(100 + (r * 53 + t * 17) % 40000);
    }
    clean.rows.push_back(a);
    corrupt.rows.push_back(b);
    metric.answers.push_back(1000 + r);
    metric.wrong_answers.push_back(2000 + r);
  }
  metric.normalize = Normalize{"clean", "corrupt"};
  plan.batches = {clean, corrupt};
  Pass clean_run{.name = "clean", .batch = "clean"};
  for (int l = 0; l < 30; ++l)
    clean_run.saves.push_back(Save{"blocks." + std::to_string(l) + ".attn.hook_z", {}, false});
  clean_run.metrics = {metric};
  Pass corrupt_run{.name = "corrupt", .batch = "corrupt"};
  corrupt_run.metrics = {metric};
  plan.passes = {clean_run, corrupt_run};
  Sweep sweep{.name = "patch_heads", .target_pass = "corrupt"};
  sweep.intervention = Intervention{.hook = "blocks.{layer}.attn.hook_z", .action = Action::PatchFrom,
                                    .source_pass = "clean"};
  for (int l = 0; l < 30; ++l) sweep.layers.push_back(l);
  for (int h = 0; h < 9; ++h) sweep.heads.push_back(h);
  sweep.positions = {-1};
  plan.sweeps = {sweep};
  plan.experiments = {Experiment{"patching", "activation_patching", {"clean", "corrupt"}, {"patch_heads"}, true}};
  return plan;
}

int flag(int argc, char** argv, const std::string& name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return std::atoi(argv[i + 1]);
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const int prompts = flag(argc, argv, "--prompts", 20);
  const int max_batch = flag(argc, argv, "--max-batch", 64);
  const int length = flag(argc, argv, "--length", 16);
  const int repeats = std::max(1, flag(argc, argv, "--repeats", 5));
  const HookPlan plan = all_heads_patching_plan(prompts, length);
  validate_plan(plan);
  OptimizeOptions options;
  options.max_batch_rows = max_batch;
  std::vector<double> ms;
  HookPlan optimized;
  OptimizeReport report;
  for (int i = 0; i < repeats; ++i) {
    report = OptimizeReport{};
    const auto start = std::chrono::steady_clock::now();
    optimized = optimize_plan(plan, options, &report);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  validate_plan(optimized);
  std::sort(ms.begin(), ms.end());
  OptimizeOptions unstacked_options = options;
  unstacked_options.disabled = {OptimizePass::StackSweeps};
  const HookPlan unstacked = optimize_plan(plan, unstacked_options);

  // Work the executor does for the sweep, in row x layer x position units: without reuse every
  // row runs every layer at every position; with the annotations only layers from the first
  // intervened one, and only positions from the first intervened one, are computed.
  int sweep_forwards = 0, max_rows = 0;
  double full = 0, reused = 0;
  for (const Pass& p : optimized.passes) {
    if (p.slices.empty()) continue;
    ++sweep_forwards;
    max_rows = std::max(max_rows, p.n_rows);
    const int layer = p.annotations.first_intervened_layer.value_or(0);
    const int position = p.annotations.first_intervened_position.value_or(0);
    const bool reuse = !p.annotations.cache_from.empty();
    full += double(p.n_rows) * 30 * length;
    reused += double(p.n_rows) * (reuse ? 30 - layer : 30) * (reuse ? length - position : length);
  }
  const long items = 30L * 9;
  std::printf("plan: SmolLM2-135M shape, all heads (30x9) patched at the last position, %d prompts of %d tokens, "
              "budget %d rows per forward\n", prompts, length, max_batch);
  std::printf("forwards as written:   %zu (%ld sweep items of %d rows + clean + corrupt)\n", count_forwards(plan),
              items, prompts);
  std::printf("forwards unstacked:    %zu (each item alone, chunked to the budget)\n", count_forwards(unstacked));
  std::printf("forwards optimized:    %zu (%d stacked sweep forwards of <= %d rows; bound ceil(%d x %ld / %d) = %ld)\n",
              count_forwards(optimized), sweep_forwards, max_rows, prompts, items, max_batch,
              (prompts * items + max_batch - 1) / max_batch);
  std::printf("sweep compute with cache reuse: %.4f of the full forwards (layers from the first patched one, "
              "last position only)\n", reused / full);
  std::printf("optimizer time: median %.2f ms over %d runs (min %.2f, max %.2f)\n", ms[ms.size() / 2],
              repeats, ms.front(), ms.back());
  for (const OptimizeStep& step : report.steps)
    std::printf("  %-26s %8.3f ms  passes after: %zu\n", optimize_pass_name(step.pass), step.milliseconds,
                step.passes_after);
  return 0;
}
