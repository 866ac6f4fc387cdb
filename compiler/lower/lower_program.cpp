// Lowering's driver and its plain-plan constructs: every experiment, circuit and claim of the
// main file in declaration order; measure, cache, attention and patch_sweep become passes and
// sweeps over the tasks' batches; metrics get answer ids and, when normalized, clean and
// corrupt baseline passes. Analyses and claims: lower_analyses.cpp; sets: lower_sets.cpp.
#include "compiler/lower/lower.h"

#include "compiler/format/formatter.h"
#include "compiler/lower/lowerer.h"
#include "compiler/plan/model_shape.h"

namespace circuit::compiler {

using ast::ExprKind;
using formats::HookKind;

Lowerer::Lowerer(const Compilation& c, Diagnostics& diagnostics, const MeasuredValues& measured, bool report_pending)
    : c_(c), model_(*c.model), diagnostics_(diagnostics), measured_(measured), report_pending_(report_pending) {}

plan::HookPlan Lowerer::run() {
  plan_.model = plan::model_shape_of(model_.config);
  plan_.source = c_.program.main()->source->path;
  for (const auto& decl : c_.program.main()->file.decls) {
    left_out_.reset();
    const ast::Expr* value = decl.value.get();
    switch (decl.kind) {
      case ast::DeclKind::Let:
      case ast::DeclKind::Circuit: {
        // Experiments are lowered here; sets, selectors and hand-written circuits where they are used.
        const Builtin* b = builtin_call(value);
        if (b && (b->group == BuiltinGroup::Experiment || b->group == BuiltinGroup::Detector ||
                  b->group == BuiltinGroup::Measure)) {
          if (!experiment(decl.name, *value)) leave_out(*value);
          break;
        }
        // Not an experiment, but it may need some (a selector's scores, a discovered circuit):
        // evaluating it lowers them now, so later stages have their measurements sooner.
        if (decl.has_params) break;
        if (decl.kind == ast::DeclKind::Circuit || c_.types.of(value) == Type::Circuit) {
          CircuitValue unused;
          decl.value ? circuit(value, unused) : circuit_body(decl, unused);
        } else if (c_.types.of(value) == Type::Set || c_.types.of(value) == Type::Component) {
          Elements unused;
          elements(value, nullptr, unused);
        }
        left_out_.reset();  // reported where the value is used
        break;
      }
      case ast::DeclKind::Expect: claim(decl); break;
      default: break;
    }
  }
  return std::move(plan_);
}

// ---- helpers --------------------------------------------------------------------------------

const Symbol* Lowerer::symbol(const ast::Expr* e) const {
  if (!e) return nullptr;
  auto it = c_.resolution.names.find(e);
  return it == c_.resolution.names.end() ? nullptr : &it->second;
}

const LoweredTask* Lowerer::task(const ast::Expr* e) {
  const Symbol* s = symbol(e);
  if (s && s->kind == Symbol::Kind::Param)
    if (const Frame* f = frame_of(s->param); f && f->exprs.count(s->param)) return task(f->exprs.at(s->param));
  if (!s || s->kind != Symbol::Kind::Decl || s->decl->kind != ast::DeclKind::Task) {
    fail(false, "its task is not a declared task");
    return nullptr;
  }
  auto it = tasks_.find(s->decl);
  if (it == tasks_.end()) it = tasks_.emplace(s->decl, lower_task(*s->decl, c_.resolution, model_, plan_)).first;
  return &it->second;
}

const ast::Expr* Lowerer::arg(const ast::Expr& call, size_t index) const {
  auto it = c_.types.call_args.find(&call);
  return it == c_.types.call_args.end() || index >= it->second.size() ? nullptr : it->second[index];
}

const Builtin* Lowerer::builtin_call(const ast::Expr* e) const {
  const Symbol* s = symbol(e);
  return e && e->kind == ExprKind::Call && s && s->kind == Symbol::Kind::Builtin ? s->builtin : nullptr;
}

std::optional<double> Lowerer::number(const ast::Expr* e) const {
  for (int hops = 0; e && hops < 64; ++hops) {
    if (e->kind == ExprKind::Number) return e->number;
    const Symbol* s = symbol(e);
    if (e->kind != ExprKind::Name || !s || s->kind != Symbol::Kind::Decl || s->decl->kind != ast::DeclKind::Let)
      return std::nullopt;
    e = s->decl->value.get();
  }
  return std::nullopt;
}

bool Lowerer::fail(bool pending, std::string why) {
  if (!left_out_) left_out_ = LeftOut{pending, std::move(why)};
  return false;
}

void Lowerer::leave_out(const ast::Expr& e) {
  LeftOut reason = left_out_.value_or(LeftOut{false, "it cannot be lowered"});
  left_out_.reset();
  if (!report_pending_) return;
  if (reason.pending)
    diagnostics_.report("W050", e.span, "'" + format_expr(e) + "' runs in a later stage of `circuit run`: " + reason.why,
                        "`circuit run` executes this stage, records the measurements and lowers the rest");
  else
    diagnostics_.report("W050", e.span, "'" + format_expr(e) + "' is not in the hook plan: " + reason.why);
}

std::vector<plan::Intervention> Lowerer::interventions_for(const std::vector<Target>& ts, plan::Action action) const {
  std::vector<plan::Intervention> out;
  for (const Target& t : ts) {
    std::vector<int> layers = t.layers.empty() ? std::vector<int>{0} : t.layers;
    for (int layer : layers) {
      plan::Intervention i;
      i.hook = formats::hook_point_name(t.kind, layer);
      i.action = action;
      i.select = t.select;
      out.push_back(i);
    }
  }
  return out;
}

// A clean run of a batch (no interventions), created once; sources of patches and baselines.
std::string Lowerer::clean_run(const std::string& batch) {
  std::string name = batch + ".run";
  if (!plan::find_pass(plan_, name)) {
    plan::Pass pass;
    pass.name = name;
    pass.batch = batch;
    plan_.passes.push_back(pass);
  }
  return name;
}

// `for_analysis`: an analysis computes its own baselines, so no reference or baseline passes.
std::optional<plan::Metric> Lowerer::metric(const ast::Expr* e, const LoweredTask& t, const std::string& name,
                                            bool for_analysis) {
  const ast::Expr* m = e;
  const Symbol* s = symbol(m);
  for (int hops = 0; s && hops < 64; ++hops) {
    if (s->kind == Symbol::Kind::Decl && s->decl->kind == ast::DeclKind::Let) {
      m = s->decl->value.get();
    } else if (s->kind == Symbol::Kind::Param) {
      const Frame* f = frame_of(s->param);
      if (!f || !f->exprs.count(s->param)) break;
      m = f->exprs.at(s->param);
    } else {
      break;
    }
    s = symbol(m);
  }
  if (!s || s->kind != Symbol::Kind::Builtin || s->builtin->group != BuiltinGroup::Metric) {
    fail(false, "its metric is not a built-in metric");
    return std::nullopt;
  }
  static const std::map<std::string_view, plan::MetricKind> kinds = {
      {"logit_diff", plan::MetricKind::LogitDiff}, {"logprob", plan::MetricKind::Logprob},
      {"prob", plan::MetricKind::Prob}, {"kl", plan::MetricKind::Kl}, {"accuracy", plan::MetricKind::Accuracy}};
  plan::Metric out;
  out.name = name;
  out.kind = kinds.at(s->builtin->name);
  if (out.kind != plan::MetricKind::Kl) out.answers = t.answers;
  if (out.kind == plan::MetricKind::LogitDiff) out.wrong_answers = t.wrong;
  if (out.kind != plan::MetricKind::Kl && out.answers.empty()) {
    fail(false, std::string(s->builtin->name) + " needs a task with answers");
    return std::nullopt;
  }
  if (out.kind == plan::MetricKind::LogitDiff && out.wrong_answers.size() != out.answers.size()) {
    fail(false, "logit_diff needs a task with wrong answers");
    return std::nullopt;
  }
  bool normalized = false;
  if (m->kind == ExprKind::Call)
    for (size_t i = 0; i < m->items.size(); ++i)
      normalized |= m->labels[i] == "normalized" && m->items[i]->kind == ExprKind::Bool && m->items[i]->boolean;
  if (for_analysis) {
    // The analysis normalizes against the clean and corrupt runs it makes itself.
    if (normalized && !t.corrupt_batch.empty()) out.normalize = plan::Normalize{};
    return out;
  }
  if (out.kind == plan::MetricKind::Kl) out.reference_pass = clean_run(t.clean_batch);
  if (normalized && !t.corrupt_batch.empty()) {
    plan::Metric baseline = out;
    for (const std::string& batch : {t.clean_batch, t.corrupt_batch}) {
      plan::Pass* run = plan::find_pass(plan_, clean_run(batch));
      bool present = false;
      for (const auto& existing : run->metrics) present |= existing.name == name;
      if (!present) run->metrics.push_back(baseline);
    }
    out.normalize = plan::Normalize{clean_run(t.clean_batch), clean_run(t.corrupt_batch)};
  }
  return out;
}

// ---- experiments ------------------------------------------------------------------------------

bool Lowerer::experiment(const std::string& name, const ast::Expr& call) {
  if (measured_.done.count(name) || lowered_.count(name)) return true;
  const Builtin* b = builtin_call(&call);
  if (!b) return fail(false, "it is not a call of a built-in experiment");
  std::string_view fn = b->name;
  bool ok = false;
  if (fn == "measure") ok = lower_measure(name, call);
  else if (fn == "cache" || fn == "attention") ok = lower_cache(name, call, fn == "attention");
  else if (fn == "patch_sweep") ok = lower_sweep(name, call);
  else if (b->group == BuiltinGroup::Measure) ok = lower_circuit_measure(name, call);
  else if (b->group == BuiltinGroup::Experiment || b->group == BuiltinGroup::Detector) ok = lower_analysis(name, call);
  else return fail(false, std::string(fn) + " is not an experiment");
  if (ok) lowered_.insert(name);
  return ok;
}

bool Lowerer::lower_measure(const std::string& name, const ast::Expr& call) {
  const LoweredTask* t = task(arg(call, 0));
  if (!t) return false;
  plan::Pass pass;
  pass.name = name;
  pass.batch = t->clean_batch;
  auto m = metric(arg(call, 1), *t, "metric", false);
  if (!m) return false;
  pass.metrics.push_back(*m);
  if (const ast::Expr* with = arg(call, 2)) {
    for (int hops = 0; with->kind == ExprKind::Name && hops < 64; ++hops) {  // a let bound to a list
      const Symbol* bound = symbol(with);
      if (!bound || bound->kind != Symbol::Kind::Decl || !bound->decl->value) break;
      with = bound->decl->value.get();
    }
    if (with->kind != ExprKind::List) return fail(false, "its interventions are not a list");
    for (const auto& item : with->items)
      if (!intervention(*item, *t, pass.interventions)) return false;
  }
  plan_.passes.push_back(pass);
  plan_.experiments.push_back({name, "measure", {name}, {}, true, {}});
  return true;
}

bool Lowerer::intervention(const ast::Expr& e, const LoweredTask& t, std::vector<plan::Intervention>& out) {
  const Builtin* b = builtin_call(&e);
  if (!b) return fail(false, "an intervention is not a direct call");
  Elements set;
  if (!elements(arg(e, 0), &t, set)) return false;
  std::string_view fn = b->name;
  static const std::map<std::string_view, plan::Action> actions = {
      {"zero", plan::Action::Zero}, {"mean", plan::Action::MeanAblate}, {"resample", plan::Action::ResampleAblate},
      {"patch", plan::Action::PatchFrom}, {"scale", plan::Action::Scale}, {"freeze", plan::Action::Freeze}};
  auto it = actions.find(fn);
  if (it == actions.end()) return fail(false, "add() needs a vector measured by the runtime");
  for (auto& i : interventions_for(to_targets(set), it->second)) {
    if (fn == "scale") {
      std::optional<double> factor = number(arg(e, 1));
      if (!factor) return fail(false, "scale() needs its factor written as a number");
      i.factor = *factor;
    }
    if (fn == "mean" || fn == "resample") {
      const LoweredTask* from = arg(e, 1) ? task(arg(e, 1)) : &t;
      if (!from) return false;
      i.source_batch = from->clean_batch;
      if (fn == "resample" && arg(e, 2)) i.seed = static_cast<uint64_t>(number(arg(e, 2)).value_or(0));
    }
    if (fn == "patch") {
      const LoweredTask* from = arg(e, 1) ? task(arg(e, 1)) : nullptr;
      std::string batch = from ? from->clean_batch : t.corrupt_batch;
      if (batch.empty()) return fail(false, "patch() needs a task with corrupt prompts, or from: another task");
      i.source_pass = clean_run(batch);
      plan::find_pass(plan_, i.source_pass)->saves.push_back({i.hook, {}, false});
    }
    const ast::Expr* rows = arg(e, b->params.size() - 1);
    if (rows && rows->kind == ExprKind::Range)
      for (long long r = rows->range_begin; r <= rows->range_end; ++r) i.select.rows.push_back(static_cast<int>(r));
    out.push_back(i);
  }
  return true;
}

bool Lowerer::lower_cache(const std::string& name, const ast::Expr& call, bool patterns) {
  const LoweredTask* t = task(arg(call, 0));
  if (!t) return false;
  plan::Pass pass;
  pass.name = name;
  pass.batch = t->clean_batch;
  std::vector<Target> ts;
  if (const ast::Expr* at = arg(call, 1)) {
    Elements set;
    if (!elements(at, t, set)) return false;
    ts = to_targets(set);
  } else {
    Target every;
    every.kind = patterns ? HookKind::Z : HookKind::ResidPost;
    every.layers = all(model_.config.n_layers);
    ts.push_back(every);
  }
  for (const Target& target : ts)
    for (int layer : target.layers.empty() ? std::vector<int>{0} : target.layers) {
      HookKind kind = patterns ? HookKind::Pattern : target.kind;
      plan::Selection select = target.select;
      if (patterns) select.positions = {};
      pass.saves.push_back({formats::hook_point_name(kind, layer), select, true});
    }
  plan_.passes.push_back(pass);
  plan_.experiments.push_back({name, patterns ? "attention" : "cache", {name}, {}, true, {}});
  return true;
}

bool Lowerer::lower_sweep(const std::string& name, const ast::Expr& call) {
  const LoweredTask* t = task(arg(call, 0));
  if (!t) return false;
  if (t->corrupt_batch.empty()) return fail(false, "activation patching needs a task with corrupt prompts");
  Elements set;
  if (!elements(arg(call, 1), t, set)) return false;
  std::vector<Target> ts = to_targets(set);
  auto m = metric(arg(call, 2), *t, "metric", false);
  if (!m) return false;
  plan::Pass target;
  target.name = name + ".target";
  // Denoising, as TransformerLens's patching functions do: each component's clean activation
  // goes into the corrupt run, so with a normalized metric 1 means "restores the clean
  // behaviour" and 0 "no effect", and top() by |score| finds the components that matter.
  target.batch = t->corrupt_batch;
  target.metrics.push_back(*m);
  plan_.passes.push_back(target);
  std::string source = clean_run(t->clean_batch);
  plan::Experiment experiment{name, "activation_patching", {}, {}, true, {}};
  for (size_t k = 0; k < ts.size(); ++k) {
    const Target& tg = ts[k];
    plan::Sweep sweep;
    sweep.name = ts.size() == 1 ? name : name + "." + std::to_string(k);
    sweep.target_pass = target.name;
    sweep.intervention.hook = formats::hook_point_spec(tg.kind).pattern;
    if (size_t at = sweep.intervention.hook.find("{l}"); at != std::string::npos)
      sweep.intervention.hook.replace(at, 3, "{layer}");
    sweep.intervention.action = plan::Action::PatchFrom;
    sweep.intervention.source_pass = source;
    sweep.layers = tg.layers;
    bool per_head = tg.kind == HookKind::Z || tg.kind == HookKind::QInput || tg.kind == HookKind::KInput ||
                    tg.kind == HookKind::VInput;
    sweep.heads = !tg.select.heads.empty() ? tg.select.heads : per_head ? all(model_.config.n_heads) : std::vector<int>{};
    sweep.positions = tg.select.positions.index;
    for (int layer : tg.layers)  // the patch source keeps what each item reads
      plan::find_pass(plan_, source)->saves.push_back({formats::hook_point_name(tg.kind, layer), {}, false});
    experiment.sweeps.push_back(sweep.name);
    plan_.sweeps.push_back(sweep);
  }
  plan_.experiments.push_back(experiment);
  return true;
}

plan::HookPlan lower_program(const Compilation& c, Diagnostics& diagnostics, const MeasuredValues& measured,
                             bool report_pending) {
  if (c.model == nullptr || !c.model->encode) {
    const Module* main = c.program.main();
    diagnostics.report("E050", main && !main->file.decls.empty() ? main->file.decls[0].span : Span{},
                       "a hook plan needs a model with a tokenizer",
                       "declare one with model \"NAME\" or pass --model NAME");
    return {};
  }
  return Lowerer(c, diagnostics, measured, report_pending).run();
}

}  // namespace circuit::compiler
