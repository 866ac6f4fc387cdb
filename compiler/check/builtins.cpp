// The built-in function table.
#include "compiler/check/builtins.h"

namespace circuit::compiler {
namespace {

using T = Type;
using G = BuiltinGroup;

const std::vector<Builtin>& table() {
  static const std::vector<Builtin> rows = {
      // Metrics: read the logits at the answer position; `normalized` rescales so the clean
      // run scores 1 and the corrupt run 0.
      {"logit_diff", G::Metric, {{"normalized", T::Bool, false}}, T::Metric,
       "logit of the answer minus logit of the wrong answer"},
      {"logprob", G::Metric, {{"normalized", T::Bool, false}}, T::Metric, "log-probability of the answer"},
      {"prob", G::Metric, {{"normalized", T::Bool, false}}, T::Metric, "probability of the answer"},
      {"kl", G::Metric, {{"normalized", T::Bool, false}}, T::Metric,
       "KL divergence from the clean run's next-token distribution"},
      {"accuracy", G::Metric, {{"normalized", T::Bool, false}}, T::Metric,
       "fraction of prompts whose top token is the answer"},
      // Interventions, each scoped by `@` positions on the target and an optional batch range.
      {"zero", G::Intervention, {{"target", T::Set, true}, {"batch", T::Range, false}}, T::Intervention,
       "zero ablation"},
      {"mean", G::Intervention, {{"target", T::Set, true}, {"over", T::Task, false}, {"batch", T::Range, false}},
       T::Intervention, "mean ablation over a task's prompts (default: the task being run)"},
      {"resample", G::Intervention,
       {{"target", T::Set, true}, {"from", T::Task, false}, {"seed", T::Int, false}, {"batch", T::Range, false}},
       T::Intervention, "resample ablation from other prompts"},
      {"patch", G::Intervention, {{"target", T::Set, true}, {"from", T::Task, false}, {"batch", T::Range, false}},
       T::Intervention, "patch activations from another run (default: the task's corrupt prompts)"},
      {"scale", G::Intervention, {{"target", T::Set, true}, {"factor", T::Float, true}, {"batch", T::Range, false}},
       T::Intervention, "multiply activations by a factor"},
      {"add", G::Intervention,
       {{"target", T::Set, true}, {"vector", T::Vector, true}, {"factor", T::Float, false}, {"batch", T::Range, false}},
       T::Intervention, "add a steering vector"},
      {"freeze", G::Intervention, {{"target", T::Set, true}, {"batch", T::Range, false}}, T::Intervention,
       "keep activations at their clean-run values"},
      {"direction", G::Helper, {{"positive", T::String, true}, {"negative", T::String, true}, {"at", T::Component, true}},
       T::Vector, "difference of the activations of two prompts at a component (activation addition)"},
      // Experiments.
      {"measure", G::Experiment,
       {{"task", T::Task, true}, {"metric", T::Metric, true}, {"with", T::Interventions, false}}, T::Measurement,
       "the metric on the task, under interventions"},
      {"cache", G::Experiment, {{"task", T::Task, true}, {"at", T::Set, false}}, T::Result,
       "cache activations"},
      {"attention", G::Experiment, {{"task", T::Task, true}, {"over", T::Set, false}}, T::Result,
       "attention patterns"},
      {"logit_lens", G::Experiment, {{"task", T::Task, true}, {"metric", T::Metric, false}}, T::Result,
       "unembed the residual stream after every layer (and the metric per layer)"},
      {"dla", G::Experiment, {{"task", T::Task, true}, {"over", T::Set, false}, {"metric", T::Metric, false}},
       T::Scores, "direct logit attribution of each component to the answer"},
      {"patch_sweep", G::Experiment, {{"task", T::Task, true}, {"over", T::Set, true}, {"metric", T::Metric, true}},
       T::Scores, "activation patching: each component's clean activation patched into the corrupt run"},
      {"path_patch", G::Experiment,
       {{"task", T::Task, true}, {"senders", T::Set, true}, {"receivers", T::Set, true}, {"metric", T::Metric, true}},
       T::Scores, "path patching from each sender to the receivers"},
      {"attribution_patch", G::Experiment,
       {{"task", T::Task, true}, {"over", T::Set, true}, {"metric", T::Metric, true}}, T::Scores,
       "gradient approximation of activation patching"},
      {"eap", G::Experiment, {{"task", T::Task, true}, {"metric", T::Metric, true}, {"top", T::Int, false}},
       T::Circuit, "edge attribution patching: the top edges"},
      {"eap_ig", G::Experiment,
       {{"task", T::Task, true}, {"metric", T::Metric, true}, {"top", T::Int, false}, {"steps", T::Int, false}},
       T::Circuit, "EAP with integrated gradients"},
      {"acdc", G::Experiment, {{"task", T::Task, true}, {"metric", T::Metric, true}, {"threshold", T::Float, true}},
       T::Circuit, "automatic circuit discovery by pruning edges"},
      // Head detectors: a score per head.
      {"previous_token_score", G::Detector, {{"task", T::Task, true}}, T::Scores,
       "attention to the previous token"},
      {"induction_score", G::Detector, {{"task", T::Task, true}}, T::Scores,
       "attention to the token after an earlier copy of the current token"},
      {"duplicate_token_score", G::Detector, {{"task", T::Task, true}}, T::Scores,
       "attention to earlier copies of the current token"},
      {"copying_score", G::Detector, {{"task", T::Task, true}}, T::Scores,
       "how much a head's OV circuit raises the logit of the token it attends to"},
      // Measures of a circuit on a task, for claims.
      {"faithfulness", G::Measure, {{"circuit", T::Circuit, true}, {"task", T::Task, true}, {"metric", T::Metric, true}},
       T::Measurement, "metric with everything outside the circuit mean-ablated, over the full model's"},
      {"completeness", G::Measure, {{"circuit", T::Circuit, true}, {"task", T::Task, true}, {"metric", T::Metric, true}},
       T::Measurement, "how little the model keeps with the circuit ablated"},
      {"minimality", G::Measure, {{"circuit", T::Circuit, true}, {"task", T::Task, true}, {"metric", T::Metric, true}},
       T::Measurement, "the smallest drop when any one component is removed"},
      {"cpr", G::Measure, {{"circuit", T::Circuit, true}, {"task", T::Task, true}, {"metric", T::Metric, true}},
       T::Measurement, "MIB's circuit performance ratio: area under faithfulness over the discovery's top-k circuits"},
      {"cmd", G::Measure, {{"circuit", T::Circuit, true}, {"task", T::Task, true}, {"metric", T::Metric, true}},
       T::Measurement, "MIB's circuit-model difference: area between the top-k circuits' faithfulness and 1"},
      // Helpers.
      {"top", G::Helper, {{"scores", T::Scores, true}, {"n", T::Int, true}}, T::Set, "the n best-scoring components"},
      {"score", G::Helper, {{"scores", T::Scores, true}, {"component", T::Component, true}}, T::Measurement,
       "one component's score"},
      {"count", G::Helper, {{"set", T::Set, true}}, T::Measurement, "how many components a set has"},
  };
  return rows;
}

}  // namespace

std::span<const Builtin> builtins() { return table(); }

const Builtin* find_builtin(std::string_view name) {
  for (const auto& row : table())
    if (row.name == name) return &row;
  return nullptr;
}

std::vector<std::string> builtin_names() {
  std::vector<std::string> names;
  for (const auto& row : table()) names.emplace_back(row.name);
  return names;
}

const char* builtin_group_name(BuiltinGroup group) {
  switch (group) {
    case G::Metric: return "metric";
    case G::Intervention: return "intervention";
    case G::Experiment: return "experiment";
    case G::Detector: return "head detector";
    case G::Measure: return "claim measure";
    case G::Helper: return "helper";
  }
  return "?";
}

}  // namespace circuit::compiler
