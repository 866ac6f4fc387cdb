// The circuit interchange document of a run (DIR/circuit.json): the model's identity with its
// weights hash, the nodes and edges of the circuits the program measured or discovered with
// their scores, the task and metric, the claims with their measured values and conditions, and
// provenance. Part of the results layer (cli/run); the format is docs/interchange.md.
#pragma once

#include <string>

#include "compiler/interchange/circuit_document.h"
#include "run/run_context.h"
#include "run/run_session.h"

namespace circuit::cli::run {

// The SHA-256 of a model's weight files (their bytes in order: the shards of a sharded model).
std::string weights_sha256(const formats::ModelSource& model);

// Builds a document that validate_document() accepts. `name`: the document's name (the file
// stem). `weights_hash`: weights_sha256(context.model), passed in so callers hash once.
interchange::CircuitDocument build_run_document(const RunOutcome& outcome, const RunContext& context,
                                                const std::string& name, const std::string& weights_hash);

}  // namespace circuit::cli::run
