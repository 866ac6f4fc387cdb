// Canonical printing. Comments are placed by position: those before a declaration (or a task
// property, or a circuit body item) are printed above it; one on the same line after it stays
// at the end of that line. A list or record too wide for kFormatWidth gets one item per line.
#include "compiler/format/formatter.h"

namespace circuit::compiler {
namespace {

using ast::ExprKind;

int precedence(const ast::Expr& e) {
  switch (e.kind) {
    case ExprKind::Member:
    case ExprKind::At: return 1;
    case ExprKind::Difference: return 2;
    case ExprKind::Intersect: return 3;
    case ExprKind::Union: return 4;
    case ExprKind::Where: return 5;
    case ExprKind::Path: return 6;
    case ExprKind::On: return 7;
    default: return 0;
  }
}

std::string quote_string(const std::string& text) {
  std::string out = "\"";
  for (char ch : text) {
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default: out += ch;
    }
  }
  return out + "\"";
}

std::string address_part(const ast::AddressPart& part) {
  switch (part.kind) {
    case ast::AddressPart::Kind::Number: return std::to_string(part.number);
    case ast::AddressPart::Kind::Name: return part.name;
    case ast::AddressPart::Kind::All: return "*";
    case ast::AddressPart::Kind::None: return "";
  }
  return "";
}

class Printer {
 public:
  explicit Printer(const ast::File& file) : file_(file) {}

  std::string run() {
    uint32_t last = 0;
    bool anything = false;  // no blank line before the first thing printed
    for (const auto& decl : file_.decls) {
      last = emit_comments_before(decl.span.begin, 0, last, anything);
      if (anything && gap(last, decl.span.begin)) out_ += "\n";
      decl_text(decl);
      trailing_comment(decl.span.end);
      out_ += "\n";
      last = decl.span.end;
      anything = true;
    }
    emit_comments_before(UINT32_MAX, 0, last, anything);
    return out_;
  }

  static std::string expr(const ast::Expr& e, int indent) {
    Printer p;
    p.expr_text(e, indent);
    return p.out_;
  }

 private:
  Printer() = default;

  // Whether the source had a blank line between two offsets.
  bool gap(uint32_t end, uint32_t begin) const {
    if (file_.source == nullptr || end >= begin) return false;
    return file_.source->line_of(begin) - file_.source->line_of(end) > 1;
  }

  // Prints the comments that start before `offset`, keeping one blank line where the source
  // had one or more; returns the end of the last thing printed.
  uint32_t emit_comments_before(uint32_t offset, int indent, uint32_t last, bool& anything) {
    while (next_comment_ < file_.comments.size() && file_.comments[next_comment_].span.begin < offset) {
      const ast::Comment& c = file_.comments[next_comment_++];
      if (anything && gap(last, c.span.begin)) out_ += "\n";
      out_ += std::string(indent, ' ') + c.text + "\n";
      last = c.span.end;
      anything = true;
    }
    return last;
  }

  // A comment on the same line right after `end` stays at the end of the line.
  void trailing_comment(uint32_t end) {
    if (next_comment_ >= file_.comments.size() || file_.source == nullptr) return;
    const ast::Comment& c = file_.comments[next_comment_];
    if (c.span.begin < end || c.doc) return;
    if (file_.source->line_of(c.span.begin) != file_.source->line_of(end)) return;
    out_ += "  " + c.text;
    ++next_comment_;
  }

  void decl_text(const ast::Decl& d) {
    switch (d.kind) {
      case ast::DeclKind::Model: out_ += "model " + quote_string(d.name); break;
      case ast::DeclKind::UseFile: out_ += "use " + quote_string(d.name); break;
      case ast::DeclKind::UseRegistry:
        out_ += "use registry " + quote_string(d.name);
        if (!d.version.empty()) out_ += " version " + quote_string(d.version);
        break;
      case ast::DeclKind::Let:
        out_ += "let " + d.name + " = ";
        expr_text(*d.value, 0);
        break;
      case ast::DeclKind::Circuit: circuit_text(d); break;
      case ast::DeclKind::Task:
        out_ += "task " + d.name + " {";
        block(d, d.properties.size(), [&](size_t i) -> std::pair<const ast::Expr*, std::string> {
          return {d.properties[i].value.get(), d.properties[i].name + ": "};
        }, [&](size_t i) { return d.properties[i].name_span.begin; });
        break;
      case ast::DeclKind::Expect:
        out_ += "expect ";
        expr_text(*d.value, 0);
        out_ += std::string(" ") + ast::comparator_text(d.comparator) + " ";
        expr_text(*d.bound, 0);
        break;
    }
  }

  void circuit_text(const ast::Decl& d) {
    out_ += "circuit " + d.name;
    if (d.has_params) {
      out_ += "(";
      for (size_t i = 0; i < d.params.size(); ++i)
        out_ += (i ? ", " : "") + d.params[i].name + ": " + d.params[i].type;
      out_ += ")";
    }
    if (!d.has_body) {
      out_ += " = ";
      expr_text(*d.value, 0);
      return;
    }
    out_ += " {";
    block(d, d.body.size(), [&](size_t i) -> std::pair<const ast::Expr*, std::string> { return {d.body[i].get(), ""}; },
          [&](size_t i) { return d.body[i]->span.begin; });
  }

  // `{`, one item per line with comments, `}`; "{}" when empty.
  template <typename Item, typename Begin>
  void block(const ast::Decl& d, size_t n, Item item, Begin begin) {
    bool has_inner_comments = next_comment_ < file_.comments.size() &&
                              file_.comments[next_comment_].span.begin < d.span.end;
    if (n == 0 && !has_inner_comments) {
      out_ += "}";
      return;
    }
    out_ += "\n";
    uint32_t last = 0;
    bool anything = false;
    for (size_t i = 0; i < n; ++i) {
      auto [e, prefix] = item(i);
      last = emit_comments_before(begin(i), 2, last, anything);
      if (anything && gap(last, begin(i))) out_ += "\n";
      out_ += "  " + prefix;
      expr_text(*e, 2);
      trailing_comment(e->span.end);
      out_ += "\n";
      last = e->span.end;
      anything = true;
    }
    emit_comments_before(d.span.end, 2, last, anything);
    out_ += "}";
  }

  void child(const ast::Expr& e, int max_precedence, int indent) {
    bool parens = precedence(e) > max_precedence;
    if (parens) out_ += "(";
    expr_text(e, indent);
    if (parens) out_ += ")";
  }

  // Items, one line if it fits, else one per line at indent + 2.
  template <typename Print>
  void sequence(char open, char close, size_t n, Print print, int indent) {
    std::string one_line;
    {
      Printer p;
      for (size_t i = 0; i < n; ++i) {
        if (i) p.out_ += ", ";
        print(p, i, 0);
      }
      one_line = p.out_;
    }
    size_t column = out_.size() - (out_.rfind('\n') == std::string::npos ? 0 : out_.rfind('\n') + 1);
    bool fits = one_line.find('\n') == std::string::npos && column + one_line.size() + 2 <= kFormatWidth;
    if (fits) {
      out_ += open;
      if (open == '{' && n) out_ += " ";
      out_ += one_line;
      if (open == '{' && n) out_ += " ";
      out_ += close;
      return;
    }
    out_ += open;
    out_ += "\n";
    for (size_t i = 0; i < n; ++i) {
      out_ += std::string(indent + 2, ' ');
      print(*this, i, indent + 2);
      out_ += ",\n";
    }
    out_ += std::string(indent, ' ') + close;
  }

  void expr_text(const ast::Expr& e, int indent) {
    switch (e.kind) {
      case ExprKind::Name: out_ += e.text; break;
      case ExprKind::String: out_ += quote_string(e.text); break;
      case ExprKind::Number: out_ += e.text; break;
      case ExprKind::Bool: out_ += e.boolean ? "true" : "false"; break;
      case ExprKind::Range: out_ += std::to_string(e.range_begin) + ".." + std::to_string(e.range_end); break;
      case ExprKind::List:
        sequence('[', ']', e.items.size(), [&](Printer& p, size_t i, int ind) { p.expr_text(*e.items[i], ind); }, indent);
        break;
      case ExprKind::Record:
        sequence('{', '}', e.items.size(), [&](Printer& p, size_t i, int ind) {
          p.out_ += e.labels[i] + ": ";
          p.expr_text(*e.items[i], ind);
        }, indent);
        break;
      case ExprKind::Call:
        out_ += e.text + "(";
        for (size_t i = 0; i < e.items.size(); ++i) {
          if (i) out_ += ", ";
          if (!e.labels[i].empty()) out_ += e.labels[i] + ": ";
          expr_text(*e.items[i], indent);
        }
        out_ += ")";
        break;
      case ExprKind::Component: {
        const ast::Component& c = e.component;
        out_ += ast::component_keyword(c.kind);
        if (c.layer.kind != ast::AddressPart::Kind::None) out_ += " " + address_part(c.layer);
        if (c.index.kind != ast::AddressPart::Kind::None) out_ += "." + address_part(c.index);
        if (c.point != ast::ResidPoint::None) out_ += std::string(" ") + ast::resid_point_name(c.point);
        break;
      }
      case ExprKind::Member:
        child(*e.items[0], 1, indent);
        out_ += "." + e.text;
        break;
      case ExprKind::At:
        child(*e.items[0], 1, indent);
        out_ += " @ ";
        if (e.position.kind == ast::Position::Kind::Index) out_ += std::to_string(e.position.index);
        else if (e.position.kind == ast::Position::Kind::Token) out_ += quote_string(e.position.text);
        else out_ += e.position.text;
        break;
      case ExprKind::Difference:
      case ExprKind::Intersect:
      case ExprKind::Union:
      case ExprKind::On: {
        int p = precedence(e);
        const char* op = e.kind == ExprKind::Difference ? " - " : e.kind == ExprKind::Intersect ? " & "
                         : e.kind == ExprKind::Union ? " | " : " on ";
        child(*e.items[0], p, indent);
        out_ += op;
        child(*e.items[1], p - 1, indent);
        break;
      }
      case ExprKind::Where:
        child(*e.items[0], 5, indent);
        out_ += " where ";
        child(*e.items[1], 0, indent);
        out_ += std::string(" ") + ast::comparator_text(e.comparator) + " ";
        child(*e.items[2], 0, indent);
        break;
      case ExprKind::Path:
        for (size_t i = 0; i < e.items.size(); ++i) {
          if (i) out_ += " -> ";
          child(*e.items[i], 5, indent);
        }
        break;
    }
  }

  const ast::File& file_ = empty_file();
  static const ast::File& empty_file() {
    static const ast::File file;
    return file;
  }
  std::string out_;
  size_t next_comment_ = 0;
};

}  // namespace

std::string format_file(const ast::File& file) { return Printer(file).run(); }

std::string format_expr(const ast::Expr& e) { return Printer::expr(e, 0); }

}  // namespace circuit::compiler
