// Shared helpers of the interchange tests: reading the hand-written documents in data/ and
// expecting an exact one-line error.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "runtime/formats/format_error.h"

namespace circuit::interchange::testing {

inline std::string read_data(const std::string& name) {
  std::ifstream in(std::string(CIRCUIT_INTERCHANGE_TEST_DATA) + "/" + name, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline nlohmann::json data_json(const std::string& name) { return nlohmann::json::parse(read_data(name)); }

// The message of the FormatError `f` throws; "" (a test failure) when it throws nothing.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const formats::FormatError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a FormatError";
  return "";
}

}  // namespace circuit::interchange::testing
