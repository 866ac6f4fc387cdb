// Validation of a CircuitDocument beyond its JSON form: node ids that agree with their fields,
// no duplicate ids, edges between existing nodes, indices within the model's shape, hashes and
// dates well formed. Part of the interchange stage; errors are FormatErrors naming the JSON path.
#pragma once

#include "compiler/interchange/circuit_document.h"

namespace circuit::interchange {

// Throws FormatError("edges[2].source", "no node \"a9.h9\" in the document") at the first problem.
void validate_document(const CircuitDocument& doc);

}  // namespace circuit::interchange
