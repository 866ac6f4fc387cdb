// HookPlan: the hook-plan IR, a serializable description of forward/backward passes with
// interventions at named hook points; the compiler's lowering emits it, the optimizer rewrites
// it, and the runtime executor (or a remote server) runs it. Plans carry data, never code.
//
// Conventions the executor relies on (docs/hook-plans.md has the full text):
//  - Hook names are TransformerLens names (`blocks.3.attn.hook_z`, `hook_embed`, ...); the layer
//    is part of the name.
//  - A pass runs over a *virtual batch*: pass row t holds batch row (row_offset + t) mod N, where
//    N is the batch's row count. Stacked passes repeat a batch this way without copying tokens.
//  - `Selection::rows` indexes pass rows (t). Per-row positions (`Positions::per_row`) and a
//    metric's answer ids index *batch rows* (the prompt), so stacking never copies them.
//  - patch-from: pass row t takes the source pass's activation at its row that holds the same
//    batch row index (the source batch must have the same row count).
// Extend this file; do not rename fields: lowering, the executor and the server share it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace circuit::plan {

inline constexpr const char* kPlanFormat = "circuitry.hookplan";
inline constexpr int kPlanVersion = 1;

// The model a plan targets: enough shape to check every index without loading weights.
struct ModelShape {
  std::string name;    // display or checkpoint name ("SmolLM2-135M-Instruct", "induction-2l")
  std::string family;  // formats::family_name(): "gpt2", "llama", "gpt-neox", "attn-only"
  int n_layers = 0;
  int n_heads = 0;
  int n_kv_heads = 0;
  int d_model = 0;
  int d_head = 0;
  int d_mlp = 0;  // 0: no MLP
  int d_vocab = 0;
  int n_ctx = 0;
  bool operator==(const ModelShape&) const = default;
};

enum class PadSide { Right, Left };

// A named list of token-id sequences. Rows may differ in length; the executor pads them on
// `pad_side` and masks the padding, so positions below always count within the real tokens.
struct TokenBatch {
  std::string name;
  std::vector<std::vector<int32_t>> rows;
  PadSide pad_side = PadSide::Right;
  bool equal_lengths = false;  // the plan requires every row to have the same length
  bool operator==(const TokenBatch&) const = default;
};

// Which positions of each row. Empty `index` and empty `per_row`: every position.
// `index`: the same positions in every row; negative counts from the row's end (-1 = last token).
// `per_row`: resolved positions for each batch row (per_row[b] for batch row b); wins over index.
struct Positions {
  std::vector<int> index;
  std::vector<std::vector<int>> per_row;
  bool all() const { return index.empty() && per_row.empty(); }
  bool operator==(const Positions&) const = default;
};

// An index selection inside one hook point's activation. Empty lists mean "all".
struct Selection {
  std::vector<int> rows;     // pass rows (see the file comment)
  Positions positions;
  std::vector<int> heads;    // only for per-head hook points (hook_z, hook_q, hook_pattern, ...)
  std::vector<int> neurons;  // indices into the activation's last dimension
  bool operator==(const Selection&) const = default;
};

// A dense value: `shape` row-major, `data` its elements. Replace and add broadcast it against
// the selected activation's trailing dimensions (a [d_model] steering vector, a scalar, ...).
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
  bool operator==(const Tensor&) const = default;
};

enum class Action {
  Replace,         // set the selection to `value`
  Add,             // add `value` (steering)
  Scale,           // multiply by `factor`
  Zero,            // set to zero
  PatchFrom,       // take `source_pass`'s saved activation at the same hook
  MeanAblate,      // mean over the rows of `source_pass` (or a clean run of `source_batch`)
  ResampleAblate,  // a row of `source_pass`/`source_batch` drawn with `seed`, per pass row
  Freeze,          // take the clean run of this pass's own input (`source_pass` once resolved)
};

struct Intervention {
  std::string hook;
  Action action = Action::Zero;
  Selection select;
  Tensor value;              // Replace, Add
  double factor = 1.0;       // Scale
  std::string source_pass;   // PatchFrom (required); MeanAblate/ResampleAblate/Freeze (resolved)
  std::string source_batch;  // MeanAblate/ResampleAblate when no source pass is named
  bool mean_over_positions = false;  // MeanAblate: also average over positions
  uint64_t seed = 0;         // ResampleAblate
  bool operator==(const Intervention&) const = default;
};

// A hook point whose activation the pass keeps. `output`: the results layer reports it (cache,
// attention patterns); otherwise it exists only because another pass references it.
struct Save {
  std::string hook;
  Selection select;
  bool output = true;
  bool operator==(const Save&) const = default;
};

enum class MetricKind { LogitDiff, Logprob, Prob, Kl, Accuracy };

// metric' = (metric - metric(corrupt_pass)) / (metric(clean_pass) - metric(corrupt_pass)).
// An analysis's metric names no passes (both empty): the analysis normalizes against the clean
// and corrupt runs it makes itself.
struct Normalize {
  std::string clean_pass;
  std::string corrupt_pass;
  bool operator==(const Normalize&) const = default;
};

// A reduction of the pass's logits, reported per row and as the mean over rows.
struct Metric {
  std::string name;
  MetricKind kind = MetricKind::LogitDiff;
  Positions position;                // one position per row read; empty: the last token
  std::vector<int32_t> answers;      // per batch row (logit_diff, logprob, prob, accuracy)
  std::vector<int32_t> wrong_answers;  // per batch row (logit_diff)
  std::string reference_pass;        // kl: KL(reference || this) at the same positions
  std::optional<Normalize> normalize;
  bool operator==(const Metric&) const = default;
};

// Gradients of one of the pass's metrics (its mean over rows) w.r.t. hook points, saved like
// activations: attribution patching and EAP.
struct Backward {
  std::string metric;
  std::vector<std::string> hooks;
  bool operator==(const Backward&) const = default;
};

// Provenance of a run of pass rows produced by stacking a sweep: the results layer reports the
// pass's per-row metrics for these rows as the sweep item at (layer, head, position).
struct RowSlice {
  std::string sweep;
  int item = 0;
  int first_row = 0;  // pass rows [first_row, first_row + n_rows)
  int n_rows = 0;
  int batch_row_offset = 0;  // batch row of pass row first_row (mod N)
  std::optional<int> layer, head, position;
  bool operator==(const RowSlice&) const = default;
};

// Facts the optimizer records for the executor; absent until annotate passes have run.
struct PassAnnotations {
  std::optional<int> first_intervened_layer;     // layers below come from `cache_from`
  std::optional<int> first_intervened_position;  // positions before it come from `cache_from`
  std::string cache_from;  // a pass over the same input, without interventions, saving its cache
  std::optional<bool> logits_needed;  // false: no metric reads logits, skip the unembedding
  std::optional<Positions> logit_positions;  // the only positions the unembedding is needed at
  bool operator==(const PassAnnotations&) const = default;
};

struct Pass {
  std::string name;
  std::string batch;
  int row_offset = 0;
  int n_rows = 0;  // 0: the batch's row count
  std::vector<Intervention> interventions;
  std::vector<Save> saves;
  std::vector<Metric> metrics;
  std::optional<Backward> backward;
  std::vector<RowSlice> slices;
  PassAnnotations annotations;
  bool operator==(const Pass&) const = default;
};

// "This intervention at each layer x head x position": one item per combination, layer-major.
// Each item is `target_pass` with `intervention` added, its hook's "{layer}" replaced, its
// heads/positions set to the item's. stack_sweeps turns items into batched passes.
struct Sweep {
  std::string name;
  std::string target_pass;
  Intervention intervention;
  std::vector<int> layers;     // empty: the hook has no "{layer}"
  std::vector<int> heads;      // empty: not swept over heads
  std::vector<int> positions;  // empty: not swept over positions (absolute, negative from end)
  bool operator==(const Sweep&) const = default;
};

// A named group of passes and sweeps whose outputs the results layer reports. When a plan
// has experiments, a pass or sweep that no reported experiment reaches is dead.
struct Experiment {
  std::string name;
  std::string kind;  // for the results layer: "activation_patching", "cache", "eap", ...
  std::vector<std::string> passes;
  std::vector<std::string> sweeps;
  bool report = true;
  std::vector<std::string> analyses;
  bool operator==(const Experiment&) const = default;
};

// An analysis the runtime's analysis layer (runtime/analysis/) runs as a whole, choosing its own
// forwards and backwards: head detectors, logit lens, direct logit attribution, path patching,
// attribution patching, EAP, EAP-IG, ACDC, and the measures of a circuit. Every argument is
// concrete. Nodes and edges are named as MIB / EAP-IG name them (interchange/circuit_document.h):
// nodes "input", "a{l}.h{h}", "m{l}", "logits"; a receiver that is a head's input carries
// "<q>", "<k>" or "<v>" ("a1.h3<k>"); an edge is "{sender}->{receiver}" ("a0.h1->a1.h3<k>").
enum class AnalysisKind {
  PreviousTokenScore,   // per head: mean attention from each position to the one before
  InductionScore,       // per head: attention to the token after an earlier copy (repeated halves)
  DuplicateTokenScore,  // per head: attention to earlier copies of the current token
  CopyingScore,         // per head: how much its OV circuit raises the attended token's logit
  LogitLens,            // per layer: the residual stream unembedded; the metric per layer
  Dla,                  // per head and MLP (in `nodes`, or all): direct effect on the metric
  PathPatching,         // per sender in `nodes`: effect through `receivers` only
  AttributionPatching,  // per node in `nodes` (or all heads): gradient x (corrupt - clean)
  Eap,                  // per edge of the full graph: gradient x activation difference
  EapIg,                // EAP with `steps` integrated-gradient steps on the input
  Acdc,                 // pruned circuit: edges whose removal changes the metric < threshold
  Faithfulness,         // metric with every edge outside `edges` ablated, over the full model's
  Completeness,         // 1 - (metric with `edges` ablated) / full, the MIB-style complement
  Minimality,           // the smallest relative drop from removing one edge of `edges`
  CircuitCurve,         // MIB's CPR and CMD: faithfulness over top-k circuits of `edge_scores`
};

// How an analysis takes a component out: patch it from the corrupt prompts, or mean-ablate
// it over the clean prompts (when the task has no corrupt prompts).
enum class Ablation { Patch, Mean, Zero };

struct Analysis {
  std::string name;
  AnalysisKind kind = AnalysisKind::Dla;
  std::string batch;          // the clean prompts
  std::string corrupt_batch;  // patch source, row-aligned with `batch`; "" when none
  std::optional<Metric> metric;  // answers/positions as in a pass metric (per batch row)
  std::vector<std::string> nodes;      // components the analysis scores or keeps; empty: all
  std::vector<std::string> receivers;  // PathPatching: where the senders' effect is let in
  std::vector<std::string> edges;      // a circuit for the circuit measures
  std::vector<double> edge_scores;     // CircuitCurve: a score per edge of `edges`
  Positions positions;  // positions the analysis reads or intervenes at; empty: all
  Ablation ablation = Ablation::Patch;
  int top = 0;          // Eap/EapIg: edges kept in the reported circuit (0: all, scores only)
  int steps = 0;        // EapIg: integrated-gradient steps (0: the default, 5)
  double threshold = 0.0;  // Acdc
  bool operator==(const Analysis&) const = default;
};

// A claim (`expect ... >= 0.8`): the value an experiment measures (its metric mean, or its
// single value) compared with a threshold. `constant` holds a value known while lowering
// (count of a fixed set).
struct Claim {
  std::string name;        // "expect.27" (the line of the source)
  std::string expression;  // as written: "faithfulness(induction on repeated_tokens, ...)"
  std::string comparator;  // < <= > >= == !=
  double threshold = 0.0;
  std::string experiment;  // whose value it reads; "" when `constant` is set
  std::optional<double> constant;
  std::string location;    // "examples/induction.circuit:27:1"
  bool operator==(const Claim&) const = default;
};

struct HookPlan {
  ModelShape model;
  std::vector<TokenBatch> batches;
  std::vector<Pass> passes;
  std::vector<Sweep> sweeps;
  std::vector<Experiment> experiments;
  std::vector<Analysis> analyses;
  std::vector<Claim> claims;
  std::string source;  // provenance: the .circuit file (or tool) it came from; may be empty
  bool operator==(const HookPlan&) const = default;
};

// Spellings used by the JSON form, docs and dumps ("patch_from", "logit_diff", "left").
const char* action_name(Action action);
const char* metric_kind_name(MetricKind kind);
const char* pad_side_name(PadSide side);
const char* analysis_kind_name(AnalysisKind kind);  // "previous_token_score", "eap_ig", ...
const char* ablation_name(Ablation ablation);        // "patch", "mean", "zero"
std::optional<Action> parse_action(std::string_view name);
std::optional<MetricKind> parse_metric_kind(std::string_view name);
std::optional<PadSide> parse_pad_side(std::string_view name);
std::optional<AnalysisKind> parse_analysis_kind(std::string_view name);
std::optional<Ablation> parse_ablation(std::string_view name);

// Lookups by name; nullptr when absent.
const TokenBatch* find_batch(const HookPlan& plan, std::string_view name);
const Pass* find_pass(const HookPlan& plan, std::string_view name);
Pass* find_pass(HookPlan& plan, std::string_view name);
const Sweep* find_sweep(const HookPlan& plan, std::string_view name);
const Analysis* find_analysis(const HookPlan& plan, std::string_view name);

// Rows a pass runs over (n_rows, or its batch's row count); 0 if the batch is missing.
int pass_row_count(const HookPlan& plan, const Pass& pass);
// Number of items of a sweep (product of its non-empty axes, saturating at 2^62).
int64_t sweep_item_count(const Sweep& sweep);

}  // namespace circuit::plan
