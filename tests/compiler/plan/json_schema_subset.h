// A JSON Schema (2020-12) checker for the keywords schema/hookplan.schema.json uses, so the
// plan tests can validate emitted plans against the published schema without a Python
// package. Test support for tests/compiler/plan; a keyword it does not know is an error, so the
// schema cannot silently outgrow it.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace circuit::plan::testing {

// Problems found validating `instance` against `schema` ("passes[0].name: expected string").
// Throws std::invalid_argument for a keyword outside the supported subset or a bad $ref.
std::vector<std::string> schema_errors(const nlohmann::json& schema, const nlohmann::json& instance);

}  // namespace circuit::plan::testing
