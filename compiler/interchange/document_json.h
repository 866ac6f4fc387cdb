// The JSON form of a CircuitDocument (schema/circuit.schema.json): writing, and strict reading
// of outside input with one-line errors naming the JSON path. Part of the interchange stage.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "compiler/interchange/circuit_document.h"

namespace circuit::interchange {

// Writes every present field; optional fields that are absent stay absent, so that
// document_to_json(document_from_json(j)) == j for every valid document j.
nlohmann::json document_to_json(const CircuitDocument& doc);

// Reads the form of a document: keys, types, ranges, enums, format and version. Throws
// FormatError("nodes[3].layer", "expected an integer, got a string"). Cross-references (edges
// to missing nodes, duplicate ids, ids that disagree with their fields) are checked by
// validate_document(); read_document() does both.
CircuitDocument document_from_json(const nlohmann::json& j);
CircuitDocument read_document(const nlohmann::json& j);

// Text -> validated document; `what` (a file name) prefixes every error.
CircuitDocument parse_document(const std::string& text, const std::string& what);

}  // namespace circuit::interchange
