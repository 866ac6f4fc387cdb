// The AST of a .circuit file: plain structs with a source span on every node, built by the
// parse stage from ANTLR's trees and read by resolve, check, lower and format. Expressions are
// one tagged node type (ExprKind says which fields are used), so passes switch on the kind.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compiler/diagnostics/source.h"

namespace circuit::compiler::ast {

enum class ComponentKind { Head, Heads, KvHead, Mlp, Attn, Neuron, Resid, Embed, Logits };
enum class ResidPoint { None, Pre, Mid, Post };
enum class Comparator { Greater, GreaterEqual, Less, LessEqual, Equal, NotEqual };

const char* component_keyword(ComponentKind kind);  // "head", "heads", ...
const char* resid_point_name(ResidPoint point);     // "pre", "mid", "post", ""
const char* comparator_text(Comparator op);         // ">=", ...

// One part of a component address: a number, a parameter name, or `*` (all).
struct AddressPart {
  enum class Kind { None, Number, Name, All } kind = Kind::None;
  long long number = 0;
  std::string name;
  Span span;
};

struct Component {
  ComponentKind kind = ComponentKind::Head;
  AddressPart layer;  // layer, or the only part (mlp 3, resid 5)
  AddressPart index;  // head, kv head or neuron index; None for single-part addresses
  ResidPoint point = ResidPoint::None;
};

// A position qualifier: `@ -1` (index), `@ "Mary"` (token text), `@ S2` (template slot).
struct Position {
  enum class Kind { Index, Token, Slot } kind = Kind::Index;
  long long index = 0;
  std::string text;  // token text (decoded) or slot name
  Span span;
};

enum class ExprKind {
  Name,        // text
  String,      // text (decoded)
  Number,      // text (as written), number
  Bool,        // boolean
  Range,       // range_begin..range_end
  List,        // items
  Record,      // labels[i]: items[i]
  Call,        // text(callee) (labels[i]: items[i]); label "" = positional
  Component,   // component
  Member,      // items[0].text  (head 9.6.q)
  At,          // items[0] @ position
  Difference,  // items[0] - items[1]
  Intersect,   // items[0] & items[1]
  Union,       // items[0] | items[1]
  Where,       // items[0] where items[1] comparator items[2]
  Path,        // items[0] -> items[1] -> ... (flattened chain)
  On,          // items[0] on items[1]
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprKind kind = ExprKind::Name;
  Span span;
  std::string text;
  Span text_span;  // the callee or member name
  double number = 0;
  bool boolean = false;
  long long range_begin = 0, range_end = 0;
  std::vector<ExprPtr> items;
  std::vector<std::string> labels;
  std::vector<Span> label_spans;
  Component component;
  Position position;
  Comparator comparator = Comparator::Greater;
};

struct Param {
  std::string name;
  std::string type;  // as written: int, float, string, head, component, set, circuit, task, metric
  Span span, type_span;
};

struct Property {
  std::string name;
  Span name_span;
  ExprPtr value;
};

enum class DeclKind { Model, UseFile, UseRegistry, Let, Circuit, Task, Expect };

struct Decl {
  DeclKind kind = DeclKind::Let;
  Span span;
  std::vector<std::string> docs;  // `///` lines, without the slashes
  std::string name;               // let/circuit/task name; model name; use path/registry name
  Span name_span;
  std::string version;            // use registry ... version "x"
  std::vector<Param> params;      // circuit parameters
  bool has_params = false;        // `circuit c()` vs `circuit c`
  bool has_body = false;          // circuit { ... } rather than circuit = expr
  std::vector<ExprPtr> body;      // circuit body items
  ExprPtr value;                  // let/circuit = value; expect's left side
  std::vector<Property> properties;  // task
  Comparator comparator = Comparator::GreaterEqual;  // expect
  ExprPtr bound;                  // expect's right side
};

struct Comment {
  Span span;
  std::string text;  // as written, with its slashes
  bool doc = false;
};

struct File {
  const SourceText* source = nullptr;
  std::vector<Decl> decls;
  std::vector<Comment> comments;  // every comment, in order (the formatter keeps them)
};

}  // namespace circuit::compiler::ast
