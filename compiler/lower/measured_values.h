// MeasuredValues: what earlier stages of a run measured, handed back to the lowering stage so
// that constructs whose value depends on a measurement (selectors `where score > t`, `top()`,
// circuits found by EAP/ACDC, claims over them) can be lowered in the next stage. Plain data,
// keyed by the name of the `let`/`circuit` declaration that produced it; no libtorch.
//
// A program runs in stages (cli/run): lower what is known -> execute -> record measurements ->
// lower again, until every experiment and claim has run. `circuit compile` lowers stage 1.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace circuit::compiler {

struct MeasuredValues {
  // let name -> node id ("a1.h3", "m0") -> score (detectors, patch_sweep, DLA, path patching...)
  std::map<std::string, std::map<std::string, double>> scores;
  // circuit or let name -> edge ids ("a0.h1->a1.h3<k>") of a discovered circuit (EAP, ACDC)
  std::map<std::string, std::vector<std::string>> circuits;
  // circuit or let name -> score per edge id of the full graph, where the discovery gave them
  std::map<std::string, std::map<std::string, double>> edge_scores;
  // let name -> a single measured value (measure(), faithfulness(), ...)
  std::map<std::string, double> values;
  // experiments (let names, "expect.LINE") already run: not lowered again
  std::set<std::string> done;
};

}  // namespace circuit::compiler
