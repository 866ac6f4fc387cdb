// Helpers the optimizer passes share: visiting and renaming every reference to a pass, the
// passes one pass reads from, fresh pass names, and finding or adding a batch's clean run.
// Part of the plan optimizer stage.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/plan/hook_plan.h"

namespace circuit::plan {

// Calls `visit` on every field that names a pass: intervention sources, kl references,
// normalization baselines, cache_from, sweep targets and sources, experiment pass lists.
// Analyses name batches, never passes (their metrics carry no reference or baseline pass), so
// renaming or dropping passes never touches them.
void for_each_pass_reference(HookPlan& plan, const std::function<void(std::string&)>& visit);

// Rewrites references through `renamed` (old name -> new name) and drops repeated names from
// experiment pass lists.
void rename_pass_references(HookPlan& plan, const std::map<std::string, std::string>& renamed);

// The passes `pass` reads from (activations, logits, metric baselines, cache); may repeat.
std::vector<std::string> passes_read_by(const Pass& pass);

// `base` if no pass has that name (and it is not in `taken`), else base + "~2", "~3", ...
std::string unique_pass_name(const HookPlan& plan, const std::string& base,
                             const std::set<std::string>& taken = {});

// A clean run: no interventions and no backward pass.
bool is_clean_run(const Pass& pass);

// Index of a clean run over all of `batch` (row_offset 0, one row per batch row), if any.
std::optional<size_t> find_clean_run(const HookPlan& plan, const std::string& batch);

// find_clean_run, adding an empty clean run named "clean:<batch>" when there is none.
size_t clean_run_for(HookPlan& plan, const std::string& batch);

// Adds a full save of `hook` (not an output) to `pass` unless one already exists.
void ensure_saved(Pass& pass, const std::string& hook);

// The block a hook point belongs to: N for "blocks.N....", 0 for points before the blocks
// (embeddings), n_layers for points after them (final norm, logits).
int hook_layer(std::string_view hook, int n_layers);

}  // namespace circuit::plan
