// Strict reading of outside JSON for the interchange stage: a depth-limited parse, and
// ObjectReader, which takes typed fields out of one JSON object and reports any mistake as a
// one-line FormatError naming the JSON path ("nodes[3].layer: expected an integer, got a string").
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "runtime/formats/format_error.h"

namespace circuit::interchange {

using formats::FormatError;

// The deepest nesting accepted: nlohmann's parser recurses, so deeper input could overflow the
// stack; real documents nest fewer than 10 levels (extensions included).
inline constexpr int kMaxJsonDepth = 200;

// Parses `text`; `what` (a file name) prefixes the error of malformed or too deeply nested JSON.
nlohmann::json parse_json_text(std::string_view text, const std::string& what);

// "an integer", "a string", ... for error messages.
std::string json_type_phrase(const nlohmann::json& j);

// `path` + "." + key, or key alone at the root; `path` + "[i]".
std::string child_path(const std::string& path, const std::string& key);
std::string index_path(const std::string& path, std::size_t index);

// Reads the fields of one object. Call finish() after the last field: a key nobody read is an
// error (misspelled keys must not vanish silently), except those passed to allow().
class ObjectReader {
 public:
  ObjectReader(const nlohmann::json& j, std::string path);

  bool has(const std::string& key) const;
  const std::string& path() const { return path_; }
  std::string path_of(const std::string& key) const { return child_path(path_, key); }

  std::string string(const std::string& key);
  std::optional<std::string> optional_string(const std::string& key);
  std::int64_t integer(const std::string& key, std::int64_t min, std::int64_t max);
  std::optional<std::int64_t> optional_integer(const std::string& key, std::int64_t min, std::int64_t max);
  double number(const std::string& key);
  std::optional<double> optional_number(const std::string& key);
  bool boolean(const std::string& key);
  std::optional<bool> optional_boolean(const std::string& key);
  const nlohmann::json& array(const std::string& key);            // required
  const nlohmann::json* optional_array(const std::string& key);   // nullptr when absent
  const nlohmann::json& object(const std::string& key);
  const nlohmann::json* optional_object(const std::string& key);
  const nlohmann::json* any(const std::string& key);              // any type, nullptr when absent

  void finish() const;

 private:
  const nlohmann::json* take(const std::string& key);
  const nlohmann::json& require(const std::string& key);
  [[noreturn]] void wrong_type(const std::string& key, const char* expected, const nlohmann::json& got) const;

  const nlohmann::json& j_;
  std::string path_;
  std::set<std::string> read_;
};

}  // namespace circuit::interchange
