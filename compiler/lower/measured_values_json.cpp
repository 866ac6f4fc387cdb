#include "compiler/lower/measured_values_json.h"

#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace circuit::compiler {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw std::runtime_error(where + ": " + what);
}

const json& object_at(const json& j, const std::string& where) {
  if (!j.is_object()) bad(where, "expected an object");
  return j;
}

double finite_number(const json& j, const std::string& where) {
  if (!j.is_number()) bad(where, "expected a number");
  double v = j.get<double>();
  if (!std::isfinite(v)) bad(where, "must be finite");
  return v;
}

std::vector<std::string> strings(const json& j, const std::string& where) {
  if (!j.is_array()) bad(where, "expected an array of strings");
  std::vector<std::string> out;
  for (const json& s : j) {
    if (!s.is_string()) bad(where, "expected an array of strings");
    out.push_back(s.get<std::string>());
  }
  return out;
}

std::map<std::string, double> number_map(const json& j, const std::string& where) {
  std::map<std::string, double> out;
  for (const auto& [key, value] : object_at(j, where).items()) out[key] = finite_number(value, where + "." + key);
  return out;
}

}  // namespace

MeasuredValues measured_from_json(const json& j) {
  MeasuredValues m;
  for (const auto& [key, value] : object_at(j, "measured values").items()) {
    if (key == "scores" || key == "edge_scores") {
      auto& into = key == "scores" ? m.scores : m.edge_scores;
      for (const auto& [name, scores] : object_at(value, key).items()) into[name] = number_map(scores, key + "." + name);
    } else if (key == "circuits") {
      for (const auto& [name, edges] : object_at(value, key).items()) m.circuits[name] = strings(edges, key + "." + name);
    } else if (key == "values") {
      m.values = number_map(value, key);
    } else if (key == "done") {
      for (const std::string& name : strings(value, key)) m.done.insert(name);
    } else {
      bad(key, "unknown key (expected scores, circuits, edge_scores, values, done)");
    }
  }
  return m;
}

json measured_to_json(const MeasuredValues& m) {
  json out = json::object();
  if (!m.scores.empty()) out["scores"] = m.scores;
  if (!m.circuits.empty()) out["circuits"] = m.circuits;
  if (!m.edge_scores.empty()) out["edge_scores"] = m.edge_scores;
  if (!m.values.empty()) out["values"] = m.values;
  if (!m.done.empty()) out["done"] = m.done;
  return out;
}

MeasuredValues read_measured_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot read the file");
  std::stringstream text;
  text << in.rdbuf();
  try {
    return measured_from_json(json::parse(text.str()));
  } catch (const json::exception& e) {
    throw std::runtime_error(path + ": not JSON (" + std::string(e.what()) + ")");
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

}  // namespace circuit::compiler
