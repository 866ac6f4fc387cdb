// Fuzz target of the interchange stage: any bytes are parsed as JSON, read as a circuit
// document or imported as an attribution graph; every input must either be rejected with a
// FormatError or give a document that round-trips exactly and exports, and re-imports, cleanly.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "compiler/interchange/attribution_graph.h"
#include "compiler/interchange/document_json.h"
#include "compiler/interchange/json_reader.h"

namespace ix = circuit::interchange;

namespace {

// An accepted document whose round trip differs is a bug, not bad input: crash so the fuzzer
// keeps the input.
void check_round_trip(const ix::CircuitDocument& doc) {
  const nlohmann::json j = ix::document_to_json(doc);
  if (!(ix::read_document(j) == doc)) std::abort();
  if (!(ix::parse_document(j.dump(), "fuzz") == doc)) std::abort();
  const nlohmann::json graph = ix::export_attribution_graph(doc);
  try {
    (void)ix::import_attribution_graph(graph, std::nullopt);
  } catch (const circuit::formats::FormatError&) {
    // Allowed: an export may merge nodes that circuit-tracer's ids cannot tell apart.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const nlohmann::json j = ix::parse_json_text(text, "fuzz");
    // Both readers see every input, whatever it looks like.
    try {
      const ix::CircuitDocument doc = ix::read_document(j);
      if (!(ix::document_to_json(doc) == j)) std::abort();  // lossless for valid documents
      check_round_trip(doc);
    } catch (const circuit::formats::FormatError&) {
    }
    try {
      check_round_trip(ix::import_attribution_graph(j, std::nullopt));
    } catch (const circuit::formats::FormatError&) {
    }
  } catch (const circuit::formats::FormatError&) {
  }
  return 0;
}
