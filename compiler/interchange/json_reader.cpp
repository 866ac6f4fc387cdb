// Depth-limited JSON parsing and typed, path-reporting field access for the interchange stage.
#include "compiler/interchange/json_reader.h"

#include <cmath>
#include <limits>

namespace circuit::interchange {
namespace {

// Nesting depth of JSON text, counting brackets outside strings, stopping once past the limit.
// Malformed text is left for the parser to report.
bool nesting_within_limit(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

}  // namespace

nlohmann::json parse_json_text(std::string_view text, const std::string& what) {
  if (!nesting_within_limit(text))
    throw FormatError(what, "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    // "[json.exception.parse_error.101] parse error at line 1, ..." -> the text after the tag;
    // number overflow ("1e999") is an out_of_range exception of the parser.
    std::string msg = e.what();
    if (msg.rfind("[json.exception.", 0) == 0 && msg.find("] ") != std::string::npos) msg = msg.substr(msg.find("] ") + 2);
    for (char& c : msg)
      if (c == '\n' || c == '\r') c = ' ';
    throw FormatError(what, "invalid JSON: " + msg);
  }
}

std::string json_type_phrase(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return "an integer";
    case nlohmann::json::value_t::number_float: return "a number with a fraction";
    default: return "a binary value";
  }
}

std::string child_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string index_path(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

ObjectReader::ObjectReader(const nlohmann::json& j, std::string path) : j_(j), path_(std::move(path)) {
  if (!j.is_object())
    throw FormatError(path_.empty() ? "document" : path_, "expected an object, got " + json_type_phrase(j));
}

bool ObjectReader::has(const std::string& key) const { return j_.contains(key); }

const nlohmann::json* ObjectReader::take(const std::string& key) {
  read_.insert(key);
  const auto it = j_.find(key);
  return it == j_.end() ? nullptr : &*it;
}

const nlohmann::json& ObjectReader::require(const std::string& key) {
  const nlohmann::json* v = take(key);
  if (v == nullptr) throw FormatError(path_.empty() ? "document" : path_, "missing required key \"" + key + "\"");
  return *v;
}

void ObjectReader::wrong_type(const std::string& key, const char* expected, const nlohmann::json& got) const {
  throw FormatError(path_of(key), std::string("expected ") + expected + ", got " + json_type_phrase(got));
}

std::string ObjectReader::string(const std::string& key) {
  const auto& v = require(key);
  if (!v.is_string()) wrong_type(key, "a string", v);
  return v.get<std::string>();
}

std::optional<std::string> ObjectReader::optional_string(const std::string& key) {
  if (!has(key)) return std::nullopt;
  return string(key);
}

std::int64_t ObjectReader::integer(const std::string& key, std::int64_t min, std::int64_t max) {
  const auto& v = require(key);
  std::int64_t value = 0;
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(max))
      throw FormatError(path_of(key), std::to_string(u) + " is out of range (" + std::to_string(min) + ".." +
                                          std::to_string(max) + ")");
    value = static_cast<std::int64_t>(u);
  } else if (v.is_number_integer()) {
    value = v.get<std::int64_t>();
  } else {
    wrong_type(key, "an integer", v);
  }
  if (value < min || value > max)
    throw FormatError(path_of(key), std::to_string(value) + " is out of range (" + std::to_string(min) + ".." +
                                        std::to_string(max) + ")");
  return value;
}

std::optional<std::int64_t> ObjectReader::optional_integer(const std::string& key, std::int64_t min,
                                                           std::int64_t max) {
  if (!has(key)) return std::nullopt;
  return integer(key, min, max);
}

double ObjectReader::number(const std::string& key) {
  const auto& v = require(key);
  if (!v.is_number()) wrong_type(key, "a number", v);
  const double d = v.get<double>();
  // A literal beyond double's range parses to infinity; it cannot be written back as JSON.
  if (!std::isfinite(d)) throw FormatError(path_of(key), "number out of range");
  return d;
}

std::optional<double> ObjectReader::optional_number(const std::string& key) {
  if (!has(key)) return std::nullopt;
  return number(key);
}

bool ObjectReader::boolean(const std::string& key) {
  const auto& v = require(key);
  if (!v.is_boolean()) wrong_type(key, "a boolean", v);
  return v.get<bool>();
}

std::optional<bool> ObjectReader::optional_boolean(const std::string& key) {
  if (!has(key)) return std::nullopt;
  return boolean(key);
}

const nlohmann::json& ObjectReader::array(const std::string& key) {
  const auto& v = require(key);
  if (!v.is_array()) wrong_type(key, "an array", v);
  return v;
}

const nlohmann::json* ObjectReader::optional_array(const std::string& key) {
  if (!has(key)) return nullptr;
  return &array(key);
}

const nlohmann::json& ObjectReader::object(const std::string& key) {
  const auto& v = require(key);
  if (!v.is_object()) wrong_type(key, "an object", v);
  return v;
}

const nlohmann::json* ObjectReader::optional_object(const std::string& key) {
  if (!has(key)) return nullptr;
  return &object(key);
}

const nlohmann::json* ObjectReader::any(const std::string& key) { return take(key); }

void ObjectReader::finish() const {
  for (const auto& [key, value] : j_.items())
    if (!read_.count(key)) throw FormatError(path_of(key), "unknown key (tools keep their own data under \"extensions\")");
}

}  // namespace circuit::interchange
