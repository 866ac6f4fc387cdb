// Spellings of the AST's enums, shared by the formatter, the dumper and diagnostics.
#include "compiler/ast/ast.h"

namespace circuit::compiler::ast {

const char* component_keyword(ComponentKind kind) {
  switch (kind) {
    case ComponentKind::Head: return "head";
    case ComponentKind::Heads: return "heads";
    case ComponentKind::KvHead: return "kv_head";
    case ComponentKind::Mlp: return "mlp";
    case ComponentKind::Attn: return "attn";
    case ComponentKind::Neuron: return "neuron";
    case ComponentKind::Resid: return "resid";
    case ComponentKind::Embed: return "embed";
    case ComponentKind::Logits: return "logits";
  }
  return "?";
}

const char* resid_point_name(ResidPoint point) {
  switch (point) {
    case ResidPoint::Pre: return "pre";
    case ResidPoint::Mid: return "mid";
    case ResidPoint::Post: return "post";
    case ResidPoint::None: return "";
  }
  return "";
}

const char* comparator_text(Comparator op) {
  switch (op) {
    case Comparator::Greater: return ">";
    case Comparator::GreaterEqual: return ">=";
    case Comparator::Less: return "<";
    case Comparator::LessEqual: return "<=";
    case Comparator::Equal: return "==";
    case Comparator::NotEqual: return "!=";
  }
  return "?";
}

}  // namespace circuit::compiler::ast
