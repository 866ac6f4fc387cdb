#include "json_schema_subset.h"

#include <set>
#include <stdexcept>

namespace circuit::plan::testing {
namespace {

using nlohmann::json;

const std::set<std::string> kKnown = {
    "$schema", "$id", "$defs", "title", "description", "type", "properties", "required",
    "additionalProperties", "items", "enum", "const", "minimum", "maximum", "minLength", "oneOf", "$ref"};

bool has_type(const json& v, const std::string& type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "integer") return v.is_number_integer();
  if (type == "number") return v.is_number();
  if (type == "null") return v.is_null();
  throw std::invalid_argument("unknown type " + type);
}

// a < b for JSON numbers, exact for integers of either signedness.
bool less(const json& a, const json& b) {
  if (a.is_number_integer() && b.is_number_integer()) {
    const bool a_neg = !a.is_number_unsigned() && a.get<int64_t>() < 0;
    const bool b_neg = !b.is_number_unsigned() && b.get<int64_t>() < 0;
    if (a_neg != b_neg) return a_neg;
    if (a_neg) return a.get<int64_t>() < b.get<int64_t>();
    return a.get<uint64_t>() < b.get<uint64_t>();
  }
  return a.get<double>() < b.get<double>();
}

class Checker {
 public:
  explicit Checker(const json& root) : root_(root) {}

  void check(const json& schema, const json& v, const std::string& path, std::vector<std::string>& errors) {
    for (const auto& [key, _] : schema.items())
      if (!kKnown.count(key)) throw std::invalid_argument("unsupported schema keyword " + key);
    auto fail = [&](const std::string& why) { errors.push_back((path.empty() ? "$" : path) + ": " + why); };
    if (schema.contains("$ref")) {
      const std::string ref = schema["$ref"];
      const std::string prefix = "#/$defs/";
      if (ref.rfind(prefix, 0) != 0 || !root_["$defs"].contains(ref.substr(prefix.size())))
        throw std::invalid_argument("bad $ref " + ref);
      check(root_["$defs"][ref.substr(prefix.size())], v, path, errors);
    }
    if (schema.contains("type")) {
      const json& t = schema["type"];
      bool ok = false;
      if (t.is_string()) ok = has_type(v, t);
      else
        for (const auto& one : t) ok = ok || has_type(v, one);
      if (!ok) return fail("expected " + t.dump());
    }
    if (schema.contains("const") && v != schema["const"]) fail("expected " + schema["const"].dump());
    if (schema.contains("enum")) {
      bool found = false;
      for (const auto& e : schema["enum"]) found = found || e == v;
      if (!found) fail("not one of " + schema["enum"].dump());
    }
    if (v.is_number()) {
      if (schema.contains("minimum") && less(v, schema["minimum"])) fail("below minimum");
      if (schema.contains("maximum") && less(schema["maximum"], v)) fail("above maximum");
    }
    if (v.is_string() && schema.contains("minLength") &&
        v.get<std::string>().size() < schema["minLength"].get<size_t>())
      fail("too short");
    if (v.is_object()) {
      for (const auto& key : schema.value("required", json::array()))
        if (!v.contains(key.get<std::string>())) fail("missing " + key.get<std::string>());
      const json properties = schema.value("properties", json::object());
      for (const auto& [key, value] : v.items()) {
        const std::string child = path.empty() ? key : path + "." + key;
        if (properties.contains(key)) check(properties[key], value, child, errors);
        else if (schema.contains("additionalProperties")) {
          const json& extra = schema["additionalProperties"];
          if (extra.is_boolean()) {
            if (!extra.get<bool>()) errors.push_back(child + ": not allowed");
          } else {
            check(extra, value, child, errors);
          }
        }
      }
    }
    if (v.is_array() && schema.contains("items"))
      for (size_t i = 0; i < v.size(); ++i)
        check(schema["items"], v[i], path + "[" + std::to_string(i) + "]", errors);
    if (schema.contains("oneOf")) {
      int matches = 0;
      for (const auto& option : schema["oneOf"]) {
        std::vector<std::string> sub;
        check(option, v, path, sub);
        matches += sub.empty() ? 1 : 0;
      }
      if (matches != 1) fail("matches " + std::to_string(matches) + " of oneOf's schemas, not 1");
    }
  }

 private:
  const json& root_;
};

}  // namespace

std::vector<std::string> schema_errors(const json& schema, const json& instance) {
  std::vector<std::string> errors;
  Checker(schema).check(schema, instance, "", errors);
  return errors;
}

}  // namespace circuit::plan::testing
