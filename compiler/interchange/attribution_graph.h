// Import and export of the attribution-graph JSON that circuit-tracer writes and Neuronpedia
// shows ({"metadata", "qParams", "nodes", "links"}), to and from circuit documents. Part of the
// interchange stage; docs/interchange.md gives the field mapping and what each direction loses.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>

#include "compiler/interchange/circuit_document.h"

namespace circuit::interchange {

// The key, in a document's and a node's or edge's "extensions", under which an import keeps the
// attribution graph's own fields, so that exporting an imported graph gives it back.
inline constexpr const char* kAttributionGraphExtension = "attribution_graph";

enum class JsonKind { CircuitDocument, AttributionGraph, Unknown };

// Which of the two formats a parsed JSON value looks like ("format" key vs "nodes" + "links").
JsonKind detect_json_kind(const nlohmann::json& j);

// Attribution graph -> validated circuit document. `provenance` (the import's tool, source
// file and hash, date) is recorded as given. Throws FormatError("nodes[3].layer", ...) on bad
// input, e.g. a link to a node_id that no node has or a feature type we cannot map.
CircuitDocument import_attribution_graph(const nlohmann::json& graph, const std::optional<Provenance>& provenance);

// Circuit document -> attribution graph: every node, and the edges in the circuit.
nlohmann::json export_attribution_graph(const CircuitDocument& doc);

}  // namespace circuit::interchange
