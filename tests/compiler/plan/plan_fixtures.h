// Hook plans the plan-layer tests build on: model shapes (SmolLM2-135M, the induction-2l toy)
// and an activation-patching plan with an all-heads sweep. Test support for tests/compiler/plan.
#pragma once

#include <string>
#include <vector>

#include "compiler/plan/hook_plan.h"

namespace circuit::plan::testing {

inline ModelShape smollm2_shape() {
  return ModelShape{"SmolLM2-135M-Instruct", "llama", 30, 9, 3, 576, 64, 1536, 49152, 8192};
}

inline ModelShape toy_shape() {
  return ModelShape{"induction-2l", "attn-only", 2, 4, 4, 64, 16, 0, 128, 64};
}

// `rows` rows of `length` tokens, ids derived from `seed` and kept below 100.
inline TokenBatch make_batch(const std::string& name, int rows, int length, int seed) {
  TokenBatch b;
  b.name = name;
  for (int r = 0; r < rows; ++r) {
    std::vector<int32_t> row;
    for (int t = 0; t < length; ++t) row.push_back(1 + (seed * 31 + r * 7 + t * 3) % 99);
    b.rows.push_back(std::move(row));
  }
  return b;
}

inline Metric logit_diff_metric(int rows) {
  Metric m;
  m.name = "logit_diff";
  m.kind = MetricKind::LogitDiff;
  for (int r = 0; r < rows; ++r) {
    m.answers.push_back(10 + r);
    m.wrong_answers.push_back(50 + r);
  }
  return m;
}

// Clean and corrupt runs over `n_prompts` prompts, a normalized logit-diff metric on both, and
// a sweep patching every head's hook_z (every layer) from the clean run into the corrupt run.
inline HookPlan patching_sweep_plan(const ModelShape& shape, int n_prompts, int length = 8) {
  HookPlan plan;
  plan.model = shape;
  plan.source = "tests/compiler/plan";
  plan.batches.push_back(make_batch("clean", n_prompts, length, 1));
  plan.batches.push_back(make_batch("corrupt", n_prompts, length, 2));
  Metric metric = logit_diff_metric(n_prompts);
  metric.normalize = Normalize{"clean", "corrupt"};
  Pass clean{.name = "clean", .batch = "clean"};
  for (int l = 0; l < shape.n_layers; ++l)
    clean.saves.push_back(Save{"blocks." + std::to_string(l) + ".attn.hook_z", {}, false});
  clean.metrics.push_back(metric);
  Pass corrupt{.name = "corrupt", .batch = "corrupt"};
  corrupt.metrics.push_back(metric);
  plan.passes = {clean, corrupt};
  Sweep sweep;
  sweep.name = "patch_heads";
  sweep.target_pass = "corrupt";
  sweep.intervention.hook = "blocks.{layer}.attn.hook_z";
  sweep.intervention.action = Action::PatchFrom;
  sweep.intervention.source_pass = "clean";
  for (int l = 0; l < shape.n_layers; ++l) sweep.layers.push_back(l);
  for (int h = 0; h < shape.n_heads; ++h) sweep.heads.push_back(h);
  plan.sweeps.push_back(sweep);
  plan.experiments.push_back(Experiment{"patching", "activation_patching", {"clean", "corrupt"},
                                        {"patch_heads"}, true});
  return plan;
}

// A plan with every field set away from its default.
inline HookPlan everything_plan() {
  HookPlan plan = patching_sweep_plan(toy_shape(), 3, 5);
  plan.batches[0].pad_side = PadSide::Left;
  plan.batches[1].equal_lengths = true;
  Pass& corrupt = plan.passes[1];
  corrupt.row_offset = 1;
  corrupt.n_rows = 6;
  Intervention steer{.hook = "blocks.0.hook_resid_pre", .action = Action::Add};
  steer.select.rows = {0, 2};
  steer.select.positions.per_row = {{0, 1}, {2}, {4}};
  steer.select.neurons = {3, 5};
  steer.value = Tensor{{2}, {0.25f, -1.5e-7f}};
  Intervention scale{.hook = "blocks.1.attn.hook_z", .action = Action::Scale, .factor = 0.5};
  scale.select.heads = {1, 3};
  scale.select.positions.index = {-1, 0};
  Intervention resample{.hook = "blocks.1.hook_resid_post", .action = Action::ResampleAblate,
                        .source_batch = "clean", .seed = 18446744073709551615ull};
  Intervention mean{.hook = "blocks.0.attn.hook_z", .action = Action::MeanAblate,
                    .source_pass = "clean", .mean_over_positions = true};
  corrupt.interventions = {steer, scale, resample, mean};
  corrupt.saves.push_back(Save{"hook_logits", {}, true});
  Metric kl{.name = "kl", .kind = MetricKind::Kl, .reference_pass = "clean"};
  kl.position.index = {-2};
  corrupt.metrics.push_back(kl);
  corrupt.backward = Backward{"logit_diff", {"blocks.0.attn.hook_z", "hook_embed"}};
  corrupt.slices.push_back(RowSlice{"s", 4, 0, 3, 1, 0, 2, -1});
  corrupt.annotations = PassAnnotations{1, 2, "clean", true, Positions{{}, {{1}, {2}, {3}}}};
  plan.experiments.push_back(Experiment{"unreported", "", {"clean"}, {}, false});
  return plan;
}

// The same plan without its sweep (and the experiment's reference to it).
inline void drop_sweeps(HookPlan& plan) {
  plan.sweeps.clear();
  for (Experiment& e : plan.experiments) e.sweeps.clear();
}

}  // namespace circuit::plan::testing
