// `circuit import`, `circuit export` and `circuit validate-doc`: move circuits between the
// circuit interchange document (schema/circuit.schema.json) and the attribution-graph JSON of
// circuit-tracer / Neuronpedia, and check documents from outside. Outputs are written to a
// temporary file next to the target and renamed, so a failure never leaves half a file.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
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
};

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
  cmd->add_option("-o,--output", o->output, "the circuit document to write (default: stdout)");
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
