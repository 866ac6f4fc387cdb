// `circuit import`, `circuit export` and `circuit validate-doc`: move circuits between the
// circuit interchange document (schema/circuit.schema.json) and the attribution-graph JSON of
// circuit-tracer / Neuronpedia, check documents from outside, and turn a (discovered) circuit
// document back into .circuit source (`circuit import DOC --to circuit`). Outputs are written to a
// temporary file next to the target and renamed, so a failure never leaves half a file.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cctype>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "command_registry.h"
#include "compiler/interchange/attribution_graph.h"
#include "compiler/interchange/document_json.h"
#include "compiler/interchange/json_reader.h"
#include "compiler/interchange/sha256.h"
#include "compiler/interchange/validate_document.h"

namespace circuit::cli {
namespace {

namespace ix = circuit::interchange;
namespace fs = std::filesystem;
using nlohmann::json;

std::string read_bytes(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw formats::FormatError(path, "is a folder, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw formats::FormatError(path, "cannot open the file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `text` to `path` through a temporary file in the same folder and a rename; with an
// empty path, to stdout.
void write_atomically(const std::string& path, const std::string& text) {
  if (path.empty()) {
    std::cout << text;
    return;
  }
  const fs::path target(path);
  const fs::path tmp = target.parent_path() / ("." + target.filename().string() + ".tmp" +
                                               std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw formats::FormatError(path, "cannot write the file (folder missing or not writable)");
    out << text;
    out.flush();
    if (!out) {
      out.close();
      std::error_code ec;
      fs::remove(tmp, ec);
      throw formats::FormatError(path, "write failed (disk full?)");
    }
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw formats::FormatError(path, "cannot replace the file: " + ec.message());
  }
}

// Keys a reader looks for first come first (nlohmann::json sorts keys); the rest follow in
// alphabetical order. Only the layout changes: the JSON value is the same.
nlohmann::ordered_json in_reading_order(const json& j) {
  static const char* const kFirst[] = {"format", "version", "family", "name", "metadata", "qParams", "model",
                                       "nodes", "edges", "links", "task", "metric", "claims", "provenance",
                                       "id", "node_id", "kind", "source", "target", "input", "layer", "head",
                                       "position", "feature", "token", "score"};
  if (j.is_array()) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& v : j) out.push_back(in_reading_order(v));
    return out;
  }
  if (!j.is_object()) return j;
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const char* key : kFirst)
    if (j.contains(key)) out[key] = in_reading_order(j.at(key));
  for (const auto& [key, value] : j.items())
    if (!out.contains(key)) out[key] = in_reading_order(value);
  return out;
}

std::string dump(const json& j) {
  return in_reading_order(j).dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string utc_now_iso8601() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Errors from the readers name a JSON path; the file name goes in front.
template <typename F>
auto in_file(const std::string& file, F&& f) {
  try {
    return f();
  } catch (const formats::FormatError& e) {
    throw formats::FormatError(file, e.what());
  }
}

struct InterchangeOptions {
  std::string input;
  std::string output;
  std::string from = "auto";
  std::string to = "attribution-graph";
  std::string import_to = "document";  // import: write a circuit document, or .circuit source
};

// --- A circuit document as .circuit source (`circuit import DOC --to circuit`) ---------------

// A .circuit string literal; nullopt when the text holds a control character the language's
// escapes (\n, \t, \", \\) cannot spell.
std::optional<std::string> circuit_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if ((static_cast<unsigned char>(c) < 0x20) || c == 0x7f) {
      return std::nullopt;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// A declaration name from the document's name: letters, digits and '_', not starting with a digit.
std::string circuit_identifier(const std::string& text) {
  std::string out;
  for (unsigned char c : text) out += std::isalnum(c) ? static_cast<char>(c) : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "circuit_" + out;
  return out;
}

// The .circuit spelling of a node ("a1.h3" -> "head 1.3"), or "" when the language has none
// (per-token and per-feature nodes of attribution graphs).
std::string component_of(const ix::Node& n) {
  if (n.position || n.feature || n.token) return "";
  switch (n.kind) {
    case ix::NodeKind::Input: return "embed";
    case ix::NodeKind::Attention: return "head " + std::to_string(*n.layer) + "." + std::to_string(*n.head);
    case ix::NodeKind::Mlp: return "mlp " + std::to_string(*n.layer);
    case ix::NodeKind::Logits: return "logits";
    case ix::NodeKind::MlpError: return "";
  }
  return "";
}

std::string score_note(const std::optional<double>& score) {
  if (!score) return "";
  std::ostringstream s;
  s << "  // score " << *score;
  return s.str();
}

// Declarations a circuit document can say in the language: the model, the task's prompts and
// answers, and the circuit's edges (in-circuit only) and lone nodes; claims, whose expressions
// name declarations of the file they came from, become comments with their measured values.
std::string document_to_circuit_source(const ix::CircuitDocument& doc, const std::string& input) {
  std::ostringstream out;
  const std::string name = circuit_identifier(doc.name.value_or(doc.model.name.empty() ? "imported" : doc.model.name));
  if (doc.doc) out << "/// " << *doc.doc << "\n";
  out << "/// Imported from " << input << " by `circuit import --to circuit`";
  if (doc.provenance && doc.provenance->source_path) out << " (found by " << *doc.provenance->source_path << ")";
  out << ".\n";
  auto model = circuit_string(doc.model.name);
  if (!doc.model.name.empty() && doc.model.family != "unknown" && model) out << "model " << *model << "\n";
  out << "\n";

  if (doc.task && (!doc.task->prompts.empty() || !doc.task->pairs.empty())) {
    const auto& t = *doc.task;
    bool spellable = true;
    auto list = [&](const std::vector<std::string>& items) {
      std::string s = "[";
      for (size_t i = 0; i < items.size(); ++i) {
        auto item = circuit_string(items[i]);
        spellable = spellable && item && !items[i].empty();
        s += (i ? ", " : "") + item.value_or("");
      }
      return s + "]";
    };
    std::vector<std::string> prompts = t.prompts, corrupt;
    for (const auto& p : t.pairs) {
      prompts.push_back(p.clean);
      corrupt.push_back(p.corrupt);
    }
    std::ostringstream task;
    task << "task " << circuit_identifier(t.name.value_or(name + "_task")) << " {\n  prompts: " << list(prompts) << "\n";
    if (!corrupt.empty() && corrupt.size() == prompts.size()) task << "  corrupt: " << list(corrupt) << "\n";
    if (!t.answers.empty()) task << "  answers: " << list(t.answers) << "\n";
    task << "}\n\n";
    if (spellable)
      out << task.str();
    else
      out << "// The task is left out: its prompts or answers hold characters a .circuit string cannot.\n\n";
  }

  std::map<std::string, const ix::Node*> by_id;
  for (const auto& n : doc.nodes) by_id[n.id] = &n;
  std::vector<std::string> items, skipped;
  std::set<std::string> used;
  for (const auto& e : doc.edges) {
    if (!e.in_circuit) continue;
    const std::string from = component_of(*by_id.at(e.source)), to = component_of(*by_id.at(e.target));
    if (from.empty() || to.empty()) {
      skipped.push_back(e.id);
      continue;
    }
    const char* input = e.input == ix::EdgeInput::Q ? ".q" : e.input == ix::EdgeInput::K ? ".k"
                        : e.input == ix::EdgeInput::V ? ".v" : "";
    items.push_back(from + " -> " + to + input + score_note(e.score));
    used.insert(e.source);
    used.insert(e.target);
  }
  for (const auto& n : doc.nodes) {
    if (used.count(n.id) || n.kind == ix::NodeKind::Input || n.kind == ix::NodeKind::Logits) continue;
    const std::string c = component_of(n);
    if (c.empty()) {
      skipped.push_back(n.id);
      continue;
    }
    items.push_back(c + score_note(n.score));
  }
  if (items.empty())
    throw formats::FormatError(input, "nothing in this document has a .circuit spelling (per-token and "
                                      "per-feature nodes of attribution graphs have none)");
  if (doc.metric) out << "/// Found with metric " << doc.metric->name << (doc.metric->normalized ? " (normalized)" : "") << ".\n";
  out << "circuit " << name << " {\n";
  for (const auto& item : items) out << "  " << item << "\n";
  out << "}\n";
  if (!skipped.empty()) {
    out << "// Left out (no .circuit spelling):";
    for (const auto& id : skipped) out << " " << id;
    out << "\n";
  }
  if (!doc.claims.empty()) {
    out << "\n// Claims recorded in the document (their names refer to the file they came from):\n";
    for (const auto& c : doc.claims) {
      out << "// expect " << c.expression << " " << c.comparator << " " << c.threshold;
      if (c.measured) out << "   measured " << *c.measured << (c.passed.value_or(false) ? " (passed)" : " (failed)");
      if (c.conditions && c.conditions->model) out << " on " << *c.conditions->model;
      out << "\n";
    }
  }
  return out.str();
}

void run_import(const InterchangeOptions& o) {
  const std::string bytes = read_bytes(o.input);
  const json j = ix::parse_json_text(bytes, o.input);
  ix::JsonKind kind = ix::detect_json_kind(j);
  if (o.from == "attribution-graph") kind = ix::JsonKind::AttributionGraph;
  if (o.from == "circuit") kind = ix::JsonKind::CircuitDocument;
  ix::CircuitDocument doc;
  if (kind == ix::JsonKind::CircuitDocument) {
    doc = in_file(o.input, [&] { return ix::read_document(j); });
  } else if (kind == ix::JsonKind::AttributionGraph) {
    ix::Provenance p;
    p.tool = "circuitry";
    p.tool_version = CIRCUIT_VERSION;
    p.source_path = o.input;
    p.source_sha256 = ix::sha256_hex(bytes);
    p.date = utc_now_iso8601();
    p.command = "circuit import " + o.input + " --from attribution-graph";
    doc = in_file(o.input, [&] { return ix::import_attribution_graph(j, p); });
  } else {
    throw formats::FormatError(o.input, "neither a circuit document (\"format\": \"circuitry.circuit\") nor an "
                                        "attribution graph (\"nodes\" and \"links\"); use --from to say which");
  }
  if (o.import_to == "circuit") {
    write_atomically(o.output, document_to_circuit_source(doc, o.input));
    if (!o.output.empty()) std::cerr << "wrote " << o.output << " (.circuit source)\n";
    return;
  }
  write_atomically(o.output, dump(ix::document_to_json(doc)));
  if (!o.output.empty())
    std::cerr << "wrote " << o.output << " (" << doc.nodes.size() << " nodes, " << doc.edges.size() << " edges)\n";
}

void run_export(const InterchangeOptions& o) {
  const std::string bytes = read_bytes(o.input);
  const json j = ix::parse_json_text(bytes, o.input);
  if (ix::detect_json_kind(j) == ix::JsonKind::AttributionGraph)
    throw formats::FormatError(o.input, "is an attribution graph; export reads circuit documents (convert it with "
                                        "`circuit import` first)");
  const ix::CircuitDocument doc = in_file(o.input, [&] { return ix::read_document(j); });
  const json graph = ix::export_attribution_graph(doc);
  write_atomically(o.output, dump(graph));
  if (!o.output.empty())
    std::cerr << "wrote " << o.output << " (" << graph["nodes"].size() << " nodes, " << graph["links"].size()
              << " links)\n";
}

void run_validate(const std::string& file) {
  const ix::CircuitDocument doc = ix::parse_document(read_bytes(file), file);
  std::cout << file << ": valid circuit document (version " << doc.version << ", " << doc.nodes.size()
            << " nodes, " << doc.edges.size() << " edges, " << doc.claims.size() << " claims)\n";
}

CommandRegistrar import_reg{70, "import", [](CLI::App& app) {
  auto o = std::make_shared<InterchangeOptions>();
  auto* cmd = app.add_subcommand("import", "Read a circuit document or an attribution graph and write a circuit document");
  cmd->add_option("FILE", o->input, "circuit document or attribution-graph JSON")->required();
  cmd->add_option("--from", o->from, "input kind (default: detected)")
      ->check(CLI::IsMember({"auto", "attribution-graph", "circuit"}));
  cmd->add_option("--to", o->import_to, "what to write: a circuit document (JSON) or .circuit source")
      ->check(CLI::IsMember({"document", "circuit"}));
  cmd->add_option("-o,--output", o->output, "the file to write (default: stdout)");
  cmd->callback([o] { run_import(*o); });
}};

CommandRegistrar export_reg{71, "export", [](CLI::App& app) {
  auto o = std::make_shared<InterchangeOptions>();
  auto* cmd = app.add_subcommand("export", "Write a circuit document in another tool's format");
  cmd->add_option("FILE", o->input, "circuit document (JSON)")->required();
  cmd->add_option("--to", o->to, "output format")->check(CLI::IsMember({"attribution-graph"}));
  cmd->add_option("-o,--output", o->output, "the file to write (default: stdout)");
  cmd->callback([o] { run_export(*o); });
}};

CommandRegistrar validate_reg{72, "validate-doc", [](CLI::App& app) {
  auto file = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("validate-doc", "Check a circuit document against the interchange format");
  cmd->add_option("FILE", *file, "circuit document (JSON)")->required();
  cmd->callback([file] { run_validate(*file); });
}};

}  // namespace
}  // namespace circuit::cli
