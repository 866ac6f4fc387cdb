// Lowering of analyses and claims: head detectors, logit lens, DLA, path and attribution
// patching, EAP, EAP-IG and ACDC become plan::Analysis entries (one experiment each) on their
// task's batches; faithfulness, completeness, minimality, cpr and cmd become circuit measures
// over a circuit's edge ids; every `expect` becomes a plan::Claim that reads an experiment of
// the plan, or a constant when its value is already known (a count, a score, an earlier stage).
#include <algorithm>
#include <cmath>

#include "compiler/format/formatter.h"
#include "compiler/lower/lowerer.h"

namespace circuit::compiler {

using ast::ExprKind;
using plan::AnalysisKind;

namespace {

const std::map<std::string_view, AnalysisKind>& analysis_kinds() {
  static const std::map<std::string_view, AnalysisKind> kinds = {
      {"previous_token_score", AnalysisKind::PreviousTokenScore},
      {"induction_score", AnalysisKind::InductionScore},
      {"duplicate_token_score", AnalysisKind::DuplicateTokenScore},
      {"copying_score", AnalysisKind::CopyingScore},
      {"logit_lens", AnalysisKind::LogitLens},
      {"dla", AnalysisKind::Dla},
      {"path_patch", AnalysisKind::PathPatching},
      {"attribution_patch", AnalysisKind::AttributionPatching},
      {"eap", AnalysisKind::Eap},
      {"eap_ig", AnalysisKind::EapIg},
      {"acdc", AnalysisKind::Acdc},
      {"faithfulness", AnalysisKind::Faithfulness},
      {"completeness", AnalysisKind::Completeness},
      {"minimality", AnalysisKind::Minimality},
      {"cpr", AnalysisKind::CircuitCurve},
      {"cmd", AnalysisKind::CircuitCurve},
  };
  return kinds;
}

// The positions every element shares (an analysis takes one position list), else all.
plan::Positions common_positions(const Elements& els) {
  if (els.empty()) return {};
  for (const Element& el : els)
    if (!(el.positions == els[0].positions)) return {};
  return els[0].positions;
}

}  // namespace

void Lowerer::add_analysis(const std::string& name, const std::string& kind, plan::Analysis analysis) {
  analysis.name = name;
  plan_.analyses.push_back(std::move(analysis));
  plan::Experiment e;
  e.name = name;
  e.kind = kind;
  e.analyses = {name};
  plan_.experiments.push_back(std::move(e));
}

bool Lowerer::lower_analysis(const std::string& name, const ast::Expr& call) {
  const Builtin& b = *builtin_call(&call);
  auto kind = analysis_kinds().find(b.name);
  if (kind == analysis_kinds().end()) return fail(false, std::string(b.name) + " has no lowering");
  const LoweredTask* t = task(arg(call, 0));
  if (!t) return false;
  plan::Analysis a;
  a.kind = kind->second;
  a.batch = t->clean_batch;
  // The parameter after `task` that names each argument, by the built-in table's names.
  auto param = [&](std::string_view wanted) -> const ast::Expr* {
    for (size_t i = 0; i < b.params.size(); ++i)
      if (b.params[i].name == wanted) return arg(call, i);
    return nullptr;
  };
  auto nodes_of = [&](const ast::Expr* set, std::vector<std::string>& into, bool receivers) {
    Elements els;
    std::vector<plan::GraphNode> nodes;
    if (!elements(set, t, els) || !graph_nodes(els, receivers, nodes)) return false;
    for (const plan::GraphNode& n : nodes) into.push_back(plan::graph_node_id(n));
    if (!receivers) a.positions = common_positions(els);
    return true;
  };
  const bool ablates = a.kind != AnalysisKind::PreviousTokenScore && a.kind != AnalysisKind::InductionScore &&
                       a.kind != AnalysisKind::DuplicateTokenScore && a.kind != AnalysisKind::CopyingScore &&
                       a.kind != AnalysisKind::LogitLens && a.kind != AnalysisKind::Dla;
  if (ablates) {
    a.corrupt_batch = t->corrupt_batch;
    a.ablation = t->corrupt_batch.empty() ? plan::Ablation::Mean : plan::Ablation::Patch;
  }
  if (const ast::Expr* m = param("metric")) {
    auto lowered = metric(m, *t, "metric", true);
    if (!lowered) return false;
    a.metric = *lowered;
  } else if ((a.kind == AnalysisKind::LogitLens || a.kind == AnalysisKind::Dla) && !t->answers.empty()) {
    // The default direction: the answer against the wrong answer when the task has both.
    a.metric = plan::Metric{"metric", t->wrong.size() == t->answers.size() ? plan::MetricKind::LogitDiff
                                                                           : plan::MetricKind::Logprob,
                            {}, t->answers, {}, "", std::nullopt};
    if (a.metric->kind == plan::MetricKind::LogitDiff) a.metric->wrong_answers = t->wrong;
  } else if (a.kind == AnalysisKind::Dla) {
    return fail(false, "dla needs a task with answers");
  }
  switch (a.kind) {
    case AnalysisKind::Dla:
      if (const ast::Expr* over = param("over"); over && !nodes_of(over, a.nodes, false)) return false;
      break;
    case AnalysisKind::AttributionPatching:
      if (!nodes_of(param("over"), a.nodes, false)) return false;
      break;
    case AnalysisKind::PathPatching:
      if (!nodes_of(param("senders"), a.nodes, false) || !nodes_of(param("receivers"), a.receivers, true)) return false;
      break;
    case AnalysisKind::Eap:
    case AnalysisKind::EapIg:
    case AnalysisKind::Acdc: {
      for (auto [key, into] : {std::pair{"top", &a.top}, std::pair{"steps", &a.steps}})
        if (const ast::Expr* e = param(key)) {
          std::optional<double> v = number(e);
          const double most = std::string_view(key) == "steps" ? 1000 : 1e9;  // the validator's bounds
          if (!v || *v < 0 || *v > most)
            return fail(false, std::string(key) + " must be a number from 0 to " + std::to_string(static_cast<long>(most)));
          *into = static_cast<int>(*v);
        }
      if (const ast::Expr* e = param("threshold")) {
        std::optional<double> v = number(e);
        if (!v || *v < 0) return fail(false, "threshold must be a non-negative number");
        a.threshold = *v;
      }
      break;
    }
    default: break;
  }
  if (ablates && !a.metric) return fail(false, std::string(b.name) + " needs a metric");
  add_analysis(name, plan::analysis_kind_name(a.kind), std::move(a));
  return true;
}

bool Lowerer::lower_circuit_measure(const std::string& name, const ast::Expr& call) {
  const Builtin& b = *builtin_call(&call);
  plan::Analysis a;
  a.kind = analysis_kinds().at(b.name);
  if (a.kind == AnalysisKind::CircuitCurve) {
    const ast::Expr* discovery = nullptr;
    std::optional<std::string> found = experiment_of(arg(call, 0), &discovery);
    const Builtin* by = found ? builtin_call(discovery) : nullptr;
    if (!by || (by->name != "eap" && by->name != "eap_ig" && by->name != "acdc"))
      return fail(false, std::string(b.name) + " ranks the edge scores of a circuit found by eap, eap_ig or acdc");
    auto it = measured_.edge_scores.find(*found);
    if (it == measured_.edge_scores.end()) {
      if (measured_.done.count(*found)) return fail(false, "'" + *found + "' ran but recorded no edge scores");
      if (experiment(*found, *discovery))
        fail(true, "it waits for the edge scores that '" + *found + "' measures");
      return false;
    }
    for (const auto& [id, score] : it->second) {  // outside input: only valid, finite entries
      auto edge = plan::parse_edge_id(id);
      if (!edge || !std::isfinite(score) || !plan::node_in_range(edge->sender, plan_.model) ||
          !plan::node_in_range(edge->receiver, plan_.model) || !plan::edge_is_forward(edge->sender, edge->receiver) ||
          plan::edge_id(edge->sender, edge->receiver) != id)
        continue;
      a.edges.push_back(id);
      a.edge_scores.push_back(score);
    }
    if (a.edges.empty()) return fail(false, "'" + *found + "' recorded no valid edge scores");
  } else {
    CircuitValue circuit_value;
    if (!circuit(arg(call, 0), circuit_value)) return false;
    a.edges = std::move(circuit_value.edges);
    a.nodes = std::move(circuit_value.nodes);
  }
  const LoweredTask* t = task(arg(call, 1));
  if (!t) return false;
  a.batch = t->clean_batch;
  a.corrupt_batch = t->corrupt_batch;
  a.ablation = t->corrupt_batch.empty() ? plan::Ablation::Mean : plan::Ablation::Patch;
  auto m = metric(arg(call, 2), *t, "metric", true);
  if (!m) return false;
  a.metric = *m;
  add_analysis(name, std::string(b.name), std::move(a));
  return true;
}

// ---- claims ------------------------------------------------------------------------------------

std::string claim_name(const ast::File& main, const ast::Decl& expect) {
  std::string name = "expect." + std::to_string(expect.span.line);
  if (std::count_if(main.decls.begin(), main.decls.end(), [&](const ast::Decl& d) {
        return d.kind == ast::DeclKind::Expect && d.span.line == expect.span.line;
      }) > 1)  // two claims on one line: the column tells them apart
    name.append(".").append(std::to_string(expect.span.col));
  return name;
}

void Lowerer::claim(const ast::Decl& expect) {
  plan::Claim c;
  c.name = claim_name(c_.program.main()->file, expect);
  if (measured_.done.count(c.name)) return;
  c.expression = format_expr(*expect.value);
  c.comparator = ast::comparator_text(expect.comparator);
  std::optional<double> bound = number(expect.bound.get());
  if (!bound) {
    fail(false, "the bound of expect must be a number");
    return leave_out(*expect.value);
  }
  c.threshold = *bound;
  c.location = expect.span.source ? expect.span.source->path + ":" + std::to_string(expect.span.line) + ":" +
                                        std::to_string(expect.span.col)
                                  : "";
  if (!claim_value(expect.value.get(), c.name, c)) return leave_out(*expect.value);
  plan_.claims.push_back(std::move(c));
}

bool Lowerer::claim_value(const ast::Expr* e, const std::string& name, plan::Claim& out) {
  if (const Builtin* b = builtin_call(e)) {
    if (b->name == "count") {
      double n = 0;
      if (!count(arg(*e, 0), n)) return false;
      out.constant = n;
      return true;
    }
    if (b->name == "score") {
      const std::map<std::string, double>* sc = scores(arg(*e, 0));
      Elements els;
      std::vector<plan::GraphNode> nodes;
      if (!sc || !elements(arg(*e, 1), nullptr, els) || !graph_nodes(els, false, nodes)) return false;
      if (nodes.size() != 1) return fail(false, "score() reads the score of one component");
      auto it = sc->find(plan::graph_node_id(nodes[0]));
      if (it == sc->end() || !std::isfinite(it->second))
        return fail(false, "no finite score was measured for " + plan::graph_node_id(nodes[0]));
      out.constant = it->second;
      return true;
    }
    if (b->result != Type::Measurement) return fail(false, "a claim compares one measured number");
    if (!experiment(name, *e)) return false;
    out.experiment = name;
    return true;
  }
  const Symbol* s = symbol(e);
  if (e && e->kind == ExprKind::Name && s && s->kind == Symbol::Kind::Decl && s->decl->kind == ast::DeclKind::Let &&
      s->decl->value) {
    const ast::Decl& let = *s->decl;
    const Builtin* b = builtin_call(let.value.get());
    if (!b || b->group == BuiltinGroup::Helper) return claim_value(let.value.get(), let.name, out);
    if (auto it = measured_.values.find(let.name); it != measured_.values.end()) {
      out.constant = it->second;  // measured in an earlier stage
      return true;
    }
    if (measured_.done.count(let.name)) return fail(false, "'" + let.name + "' ran but recorded no value");
    return claim_value(let.value.get(), let.name, out);
  }
  return fail(false, "a claim compares one measured number");
}

}  // namespace circuit::compiler
