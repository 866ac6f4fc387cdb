// The Lowerer: the lowering stage's state while it turns one checked program into a hook plan
// (private to compiler/lower/). Its work is split by construct: lower_program.cpp (the driver,
// passes, sweeps and interventions), lower_sets.cpp (component sets and selectors),
// lower_circuits.cpp (circuits and their edges) and lower_analyses.cpp (analyses and claims).
// What depends on a value not yet in MeasuredValues is "pending": left for a later stage, with
// the reason kept for W050.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "compiler/driver/compilation.h"
#include "compiler/lower/lowered_task.h"
#include "compiler/lower/measured_values.h"
#include "compiler/plan/graph_ids.h"
#include "compiler/plan/hook_plan.h"
#include "runtime/formats/hook_point_table.h"

namespace circuit::compiler {

// 'text', for messages (built by appending: GCC 12 warns falsely on "'" + std::string).
inline std::string quoted(const std::string& text) {
  std::string out(1, '\'');
  out.append(text).push_back('\'');
  return out;
}

// One component (or all heads / neurons of a hook when index < 0) at a hook point, with the
// positions an `@` gave it.
struct Element {
  formats::HookKind kind = formats::HookKind::Z;
  int layer = -1;  // -1: a hook without layers (embed, logits)
  int index = -1;  // head (Z, Q/K/V inputs), key/value head (V) or neuron (MlpPost); -1: all
  plan::Positions positions;
  bool operator==(const Element&) const = default;
};
using Elements = std::vector<Element>;

// One hook point and the index selection inside it, over one or more layers.
struct Target {
  formats::HookKind kind = formats::HookKind::Z;
  std::vector<int> layers;  // empty: a hook without layers (embed, logits)
  plan::Selection select;
};

// A circuit as the analyses take it: edge ids from its paths, node ids of lone components.
struct CircuitValue {
  std::vector<std::string> edges;  // in the order first found, each once
  std::vector<std::string> nodes;
  std::set<std::string> seen;      // edges and nodes already listed
  void add_edge(const std::string& id) {
    if (seen.insert(id).second) edges.push_back(id);
  }
  void add_node(const std::string& id) {
    if (seen.insert(id).second) nodes.push_back(id);
  }
};

// Why something could not be lowered now: pending (a later stage will have the measurement)
// or never (the construct is beyond what lowering supports).
struct LeftOut {
  bool pending = true;
  std::string why;
};

class Lowerer {
 public:
  Lowerer(const Compilation& c, Diagnostics& diagnostics, const MeasuredValues& measured, bool report_pending);
  plan::HookPlan run();

 private:
  // ---- lower_program.cpp: driver, passes, sweeps ----------------------------------------
  const Symbol* symbol(const ast::Expr* e) const;
  const LoweredTask* task(const ast::Expr* e);
  const ast::Expr* arg(const ast::Expr& call, size_t index) const;
  const Builtin* builtin_call(const ast::Expr* e) const;  // the built-in `e` calls, or null
  std::optional<double> number(const ast::Expr* e) const;  // a literal, or a let bound to one
  bool fail(bool pending, std::string why);  // records why (the first reason wins); false
  void leave_out(const ast::Expr& e);         // W050 for the recorded reason, when reporting
  std::string clean_run(const std::string& batch);
  std::optional<plan::Metric> metric(const ast::Expr* e, const LoweredTask& t, const std::string& name,
                                     bool for_analysis);
  // Lowers the experiment `call` under `name` unless already done or lowered; false (with a
  // reason) when it cannot be lowered in this stage.
  bool experiment(const std::string& name, const ast::Expr& call);
  bool lower_measure(const std::string& name, const ast::Expr& call);
  bool intervention(const ast::Expr& e, const LoweredTask& t, std::vector<plan::Intervention>& out);
  bool lower_cache(const std::string& name, const ast::Expr& call, bool patterns);
  bool lower_sweep(const std::string& name, const ast::Expr& call);
  std::vector<plan::Intervention> interventions_for(const std::vector<Target>& ts, plan::Action action) const;

  // ---- lower_sets.cpp: sets and selectors; lower_circuits.cpp: circuits -------------------
  // The components `e` denotes; `t` resolves `@ "token"` and `@ SLOT` (null: positions dropped).
  bool elements(const ast::Expr* e, const LoweredTask* t, Elements& out);
  bool where(const ast::Expr& e, const LoweredTask* t, Elements& out);
  bool top(const ast::Expr& call, Elements& out);
  bool position(const ast::Position& p, const LoweredTask* t, plan::Positions& out);
  Elements expand(const Elements& in) const;  // one element per head/neuron, duplicates removed
  std::vector<Target> to_targets(const Elements& in) const;
  std::vector<int> all(int n) const;
  // Node ids of elements (heads, MLPs, input, logits; attn l = its heads); receivers: a head
  // without .q/.k/.v receives on all three inputs.
  bool graph_nodes(const Elements& in, bool receivers, std::vector<plan::GraphNode>& out);
  // The experiment whose scores (or circuit) `e` names: a let/circuit name or an inline call's.
  std::optional<std::string> experiment_of(const ast::Expr* e, const ast::Expr** call = nullptr) const;
  const std::map<std::string, double>* scores(const ast::Expr* e, bool* by_magnitude = nullptr);
  bool circuit(const ast::Expr* e, CircuitValue& out);
  bool circuit_body(const ast::Decl& decl, CircuitValue& out);
  bool path_edges(const ast::Expr& path, CircuitValue& out);
  bool count(const ast::Expr* set, double& out);

  // ---- lower_analyses.cpp: analyses and claims ------------------------------------------
  bool lower_analysis(const std::string& name, const ast::Expr& call);
  bool lower_circuit_measure(const std::string& name, const ast::Expr& call);
  void add_analysis(const std::string& name, const std::string& kind, plan::Analysis analysis);
  void claim(const ast::Decl& expect);
  // How the claim's left side gets its value: an experiment of this plan or a constant.
  bool claim_value(const ast::Expr* e, const std::string& name, plan::Claim& out);

  const Compilation& c_;
  const ModelInfo& model_;
  Diagnostics& diagnostics_;
  const MeasuredValues& measured_;
  bool report_pending_;
  plan::HookPlan plan_;
  std::map<const ast::Decl*, LoweredTask> tasks_;
  std::set<std::string> lowered_;  // experiments lowered in this stage
  std::optional<LeftOut> left_out_;
  // Circuit parameters bound by an enclosing instantiation (innermost last).
  struct Frame {
    std::map<const ast::Param*, Elements> sets;
    std::map<const ast::Param*, long long> ints;
    std::map<const ast::Param*, const ast::Expr*> exprs;
  };
  std::vector<Frame> frames_;
  const Frame* frame_of(const ast::Param* p) const;
};

}  // namespace circuit::compiler
