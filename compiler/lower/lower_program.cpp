// Lowering of experiments and claims: measure, cache, attention and patch_sweep become passes
// and sweeps over the tasks' batches; metrics get answer ids and, when normalized, clean and
// corrupt baseline passes. The script: tasks (lower_tasks.cpp) -> targets -> passes.
#include "compiler/lower/lower.h"

#include <map>

#include "compiler/check/task_checks.h"
#include "compiler/format/formatter.h"
#include "compiler/lower/lowered_task.h"
#include "compiler/plan/model_shape.h"
#include "runtime/formats/hook_point_table.h"

namespace circuit::compiler {
namespace {

using ast::ExprKind;
using formats::HookKind;

// One hook point and the index selection inside it. `layers` > 1 only for sweeps' patterns.
struct Target {
  HookKind kind = HookKind::Z;
  std::vector<int> layers;  // empty: a hook without layers (embed, logits)
  plan::Selection select;
};

class Lowerer {
 public:
  Lowerer(const Compilation& c, Diagnostics& diagnostics)
      : c_(c), model_(*c.model), diagnostics_(diagnostics) {}

  plan::HookPlan run() {
    plan_.model = plan::model_shape_of(model_.config);
    plan_.source = c_.program.main()->source->path;
    for (const auto& decl : c_.program.main()->file.decls) {
      if (decl.kind == ast::DeclKind::Let && decl.value->kind == ExprKind::Call) experiment(decl.name, *decl.value);
      if (decl.kind == ast::DeclKind::Expect)
        experiment("expect." + std::to_string(decl.span.line), *decl.value);
    }
    return std::move(plan_);
  }

 private:
  void skip(const ast::Expr& e, const std::string& why) {
    diagnostics_.report("W050", e.span, "'" + format_expr(e) + "' is not in the hook plan: " + why);
  }

  const Symbol* symbol(const ast::Expr* e) {
    auto it = c_.resolution.names.find(e);
    return it == c_.resolution.names.end() ? nullptr : &it->second;
  }

  const LoweredTask* task(const ast::Expr* e) {
    const Symbol* s = symbol(e);
    if (!s || s->kind != Symbol::Kind::Decl || s->decl->kind != ast::DeclKind::Task) return nullptr;
    auto it = tasks_.find(s->decl);
    if (it == tasks_.end()) it = tasks_.emplace(s->decl, lower_task(*s->decl, c_.resolution, model_, plan_)).first;
    return &it->second;
  }

  // --- components -> targets ------------------------------------------------------------

  std::vector<int> all(int n) {
    std::vector<int> v(std::max(0, n));
    for (int i = 0; i < n; ++i) v[i] = i;
    return v;
  }

  // False (after W050) when the set depends on measurements or parameters.
  bool targets(const ast::Expr* e, const LoweredTask& t, std::vector<Target>& out, const ast::Expr& root) {
    switch (e->kind) {
      case ExprKind::Component: {
        const ast::Component& c = e->component;
        if (c.layer.kind == ast::AddressPart::Kind::Name || c.index.kind == ast::AddressPart::Kind::Name) {
          skip(root, "a component address uses a parameter");
          return false;
        }
        Target target;
        auto layer_list = [&] {
          return c.layer.kind == ast::AddressPart::Kind::Number ? std::vector<int>{static_cast<int>(c.layer.number)}
                                                                : all(model_.config.n_layers);
        };
        auto index_list = [&](std::vector<int>& into) {
          if (c.index.kind == ast::AddressPart::Kind::Number) into = {static_cast<int>(c.index.number)};
        };
        switch (c.kind) {
          case ast::ComponentKind::Head:
          case ast::ComponentKind::Heads: target.kind = HookKind::Z; index_list(target.select.heads); break;
          case ast::ComponentKind::KvHead: target.kind = HookKind::V; index_list(target.select.heads); break;
          case ast::ComponentKind::Mlp: target.kind = HookKind::MlpOut; break;
          case ast::ComponentKind::Attn: target.kind = HookKind::AttnOut; break;
          case ast::ComponentKind::Neuron: target.kind = HookKind::MlpPost; index_list(target.select.neurons); break;
          case ast::ComponentKind::Resid:
            target.kind = c.point == ast::ResidPoint::Pre ? HookKind::ResidPre
                          : c.point == ast::ResidPoint::Mid ? HookKind::ResidMid : HookKind::ResidPost;
            break;
          case ast::ComponentKind::Embed: target.kind = HookKind::Embed; out.push_back(target); return true;
          case ast::ComponentKind::Logits: target.kind = HookKind::Logits; out.push_back(target); return true;
        }
        target.layers = layer_list();
        out.push_back(target);
        return true;
      }
      case ExprKind::Member: {
        size_t first = out.size();
        if (!targets(e->items[0].get(), t, out, root)) return false;
        HookKind input = e->text == "q" ? HookKind::QInput : e->text == "k" ? HookKind::KInput : HookKind::VInput;
        for (size_t i = first; i < out.size(); ++i) out[i].kind = input;
        return true;
      }
      case ExprKind::At: {
        size_t first = out.size();
        if (!targets(e->items[0].get(), t, out, root)) return false;
        plan::Positions positions;
        const ast::Position& p = e->position;
        if (p.kind == ast::Position::Kind::Index) {
          positions.index = {static_cast<int>(p.index >= 0 ? p.index + t.offset : p.index)};
        } else if (p.kind == ast::Position::Kind::Slot) {
          auto it = t.slot_positions.find(p.text);
          if (it == t.slot_positions.end()) {
            skip(root, "the task has no slot " + p.text);
            return false;
          }
          for (int at : it->second) positions.per_row.push_back({at});
        } else {
          for (const auto& row : t.pieces) {
            int at = 0;
            for (size_t k = 0; k < row.size(); ++k)
              if (row[k] == p.text || row[k] == " " + p.text) at = static_cast<int>(k) + t.offset;
            positions.per_row.push_back({at});
          }
        }
        for (size_t i = first; i < out.size(); ++i) out[i].select.positions = positions;
        return true;
      }
      case ExprKind::List:
      case ExprKind::Union:
        for (const auto& item : e->items)
          if (!targets(item.get(), t, out, root)) return false;
        return true;
      case ExprKind::Name: {
        const Symbol* s = symbol(e);
        if (s && s->kind == Symbol::Kind::Decl && (s->decl->kind == ast::DeclKind::Let || s->decl->kind == ast::DeclKind::Circuit)) {
          if (s->decl->value) return targets(s->decl->value.get(), t, out, root);
          for (const auto& item : s->decl->body)
            if (!targets(item.get(), t, out, root)) return false;
          return true;
        }
        break;
      }
      default: break;
    }
    skip(root, "its components are known only after a measurement");
    return false;
  }

  std::vector<plan::Intervention> interventions_for(const std::vector<Target>& ts, plan::Action action) {
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

  // --- passes -----------------------------------------------------------------------------

  // A clean run of a batch (no interventions), created once; sources of patches and baselines.
  std::string clean_run(const std::string& batch) {
    std::string name = batch + ".run";
    if (!plan::find_pass(plan_, name)) {
      plan::Pass pass;
      pass.name = name;
      pass.batch = batch;
      plan_.passes.push_back(pass);
    }
    return name;
  }

  std::optional<plan::Metric> metric(const ast::Expr* e, const LoweredTask& t, const std::string& name) {
    const ast::Expr* m = e;
    const Symbol* s = symbol(m);
    while (s && s->kind == Symbol::Kind::Decl && s->decl->kind == ast::DeclKind::Let) {
      m = s->decl->value.get();
      s = symbol(m);
    }
    if (!s || s->kind != Symbol::Kind::Builtin) return std::nullopt;
    static const std::map<std::string_view, plan::MetricKind> kinds = {
        {"logit_diff", plan::MetricKind::LogitDiff}, {"logprob", plan::MetricKind::Logprob},
        {"prob", plan::MetricKind::Prob}, {"kl", plan::MetricKind::Kl}, {"accuracy", plan::MetricKind::Accuracy}};
    plan::Metric out;
    out.name = name;
    out.kind = kinds.at(s->builtin->name);
    out.answers = t.answers;
    out.wrong_answers = t.wrong;
    if (out.kind == plan::MetricKind::Kl) out.reference_pass = clean_run(t.clean_batch);
    bool normalized = false;
    if (m->kind == ExprKind::Call)
      for (size_t i = 0; i < m->items.size(); ++i)
        normalized |= m->labels[i] == "normalized" && m->items[i]->kind == ExprKind::Bool && m->items[i]->boolean;
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

  const ast::Expr* arg(const ast::Expr& call, size_t index) {
    auto it = c_.types.call_args.find(&call);
    return it == c_.types.call_args.end() || index >= it->second.size() ? nullptr : it->second[index];
  }

  void experiment(const std::string& name, const ast::Expr& call) {
    const Symbol* s = symbol(&call);
    if (!s || s->kind != Symbol::Kind::Builtin) return;
    std::string_view fn = s->builtin->name;
    if (fn == "measure") return lower_measure(name, call);
    if (fn == "cache" || fn == "attention") return lower_cache(name, call, fn == "attention");
    if (fn == "patch_sweep") return lower_sweep(name, call);
    if (s->builtin->group == BuiltinGroup::Experiment || s->builtin->group == BuiltinGroup::Detector ||
        s->builtin->group == BuiltinGroup::Measure)
      skip(call, std::string(fn) + " runs in the runtime's analysis layer, not as a plain plan yet");
  }

  void lower_measure(const std::string& name, const ast::Expr& call) {
    const LoweredTask* t = task(arg(call, 0));
    if (!t) return;
    plan::Pass pass;
    pass.name = name;
    pass.batch = t->clean_batch;
    auto m = metric(arg(call, 1), *t, "metric");
    if (!m) return skip(call, "its metric is not a built-in metric");
    pass.metrics.push_back(*m);
    if (const ast::Expr* with = arg(call, 2)) {
      while (with->kind == ExprKind::Name) {  // a let bound to a list of interventions
        const Symbol* bound = symbol(with);
        if (!bound || bound->kind != Symbol::Kind::Decl || !bound->decl->value) return skip(call, "its interventions are not a list");
        with = bound->decl->value.get();
      }
      if (with->kind != ExprKind::List) return skip(call, "its interventions are not a list");
      for (const auto& item : with->items) {
        if (!intervention(*item, *t, pass.interventions, call)) return;
      }
    }
    plan_.passes.push_back(pass);
    plan_.experiments.push_back({name, "measure", {name}, {}, true});
  }

  bool intervention(const ast::Expr& e, const LoweredTask& t, std::vector<plan::Intervention>& out, const ast::Expr& root) {
    const Symbol* s = symbol(&e);
    if (e.kind != ExprKind::Call || !s || s->kind != Symbol::Kind::Builtin) {
      skip(root, "an intervention is not a direct call");
      return false;
    }
    std::vector<Target> ts;
    if (!targets(arg(e, 0), t, ts, root)) return false;
    std::string_view fn = s->builtin->name;
    static const std::map<std::string_view, plan::Action> actions = {
        {"zero", plan::Action::Zero}, {"mean", plan::Action::MeanAblate}, {"resample", plan::Action::ResampleAblate},
        {"patch", plan::Action::PatchFrom}, {"scale", plan::Action::Scale}, {"freeze", plan::Action::Freeze}};
    auto it = actions.find(fn);
    if (it == actions.end()) {
      skip(root, "add() needs a vector measured by the runtime");
      return false;
    }
    auto lowered = interventions_for(ts, it->second);
    for (auto& i : lowered) {
      if (fn == "scale") {
        if (arg(e, 1)->kind != ExprKind::Number) {
          skip(root, "scale() needs its factor written as a number");
          return false;
        }
        i.factor = arg(e, 1)->number;
      }
      if (fn == "mean" || fn == "resample") {
        const LoweredTask* from = arg(e, 1) ? task(arg(e, 1)) : &t;
        i.source_batch = from ? from->clean_batch : t.clean_batch;
        if (fn == "resample" && arg(e, 2)) i.seed = static_cast<uint64_t>(arg(e, 2)->number);
      }
      if (fn == "patch") {
        const LoweredTask* from = arg(e, 1) ? task(arg(e, 1)) : nullptr;
        std::string batch = from ? from->clean_batch : t.corrupt_batch;
        if (batch.empty()) {
          skip(root, "patch() needs a task with corrupt prompts, or from: another task");
          return false;
        }
        i.source_pass = clean_run(batch);
        plan::Pass* source = plan::find_pass(plan_, i.source_pass);
        source->saves.push_back({i.hook, {}, false});
      }
      const ast::Expr* batch = arg(e, s->builtin->params.size() - 1);
      if (batch && batch->kind == ExprKind::Range)
        for (long long r = batch->range_begin; r <= batch->range_end; ++r) i.select.rows.push_back(static_cast<int>(r));
      out.push_back(i);
    }
    return true;
  }

  void lower_cache(const std::string& name, const ast::Expr& call, bool patterns) {
    const LoweredTask* t = task(arg(call, 0));
    if (!t) return;
    plan::Pass pass;
    pass.name = name;
    pass.batch = t->clean_batch;
    std::vector<Target> ts;
    if (const ast::Expr* at = arg(call, 1)) {
      if (!targets(at, *t, ts, call)) return;
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
    plan_.experiments.push_back({name, patterns ? "attention" : "cache", {name}, {}, true});
  }

  void lower_sweep(const std::string& name, const ast::Expr& call) {
    const LoweredTask* t = task(arg(call, 0));
    if (!t) return;
    if (t->corrupt_batch.empty()) return skip(call, "activation patching needs a task with corrupt prompts");
    std::vector<Target> ts;
    if (!targets(arg(call, 1), *t, ts, call)) return;
    auto m = metric(arg(call, 2), *t, "metric");
    if (!m) return skip(call, "its metric is not a built-in metric");
    plan::Pass target;
    target.name = name + ".target";
    target.batch = t->clean_batch;
    target.metrics.push_back(*m);
    plan_.passes.push_back(target);
    std::string source = clean_run(t->corrupt_batch);
    plan::Experiment experiment{name, "activation_patching", {}, {}, true};
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
  }

  const Compilation& c_;
  const ModelInfo& model_;
  Diagnostics& diagnostics_;
  plan::HookPlan plan_;
  std::map<const ast::Decl*, LoweredTask> tasks_;
};

}  // namespace

plan::HookPlan lower_program(const Compilation& c, Diagnostics& diagnostics) {
  if (c.model == nullptr || !c.model->encode) {
    const Module* main = c.program.main();
    diagnostics.report("E050", main && !main->file.decls.empty() ? main->file.decls[0].span : Span{},
                       "a hook plan needs a model with a tokenizer",
                       "declare one with model \"NAME\" or pass --model NAME");
    return {};
  }
  return Lowerer(c, diagnostics).run();
}

}  // namespace circuit::compiler
