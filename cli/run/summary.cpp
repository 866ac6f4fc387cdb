#include "run/summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <ostream>
#include <set>
#include <vector>

namespace circuit::cli::run {
namespace {

std::string fixed(double v, int digits = 3) {
  if (!std::isfinite(v)) return "nan";
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, v);
  return text;
}

std::string compact(double v) {
  char text[64];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

std::string pad(std::string s, size_t width) {
  if (s.size() < width) s.resize(width, ' ');
  return s;
}

}  // namespace

std::string component_name(const std::string& id) {
  int layer = 0, head = 0, used = 0;
  if (std::sscanf(id.c_str(), "a%d.h%d%n", &layer, &head, &used) == 2 && used == static_cast<int>(id.size()))
    return "head " + std::to_string(layer) + "." + std::to_string(head);
  if (std::sscanf(id.c_str(), "m%d%n", &layer, &used) == 1 && used == static_cast<int>(id.size()))
    return "mlp " + std::to_string(layer);
  return id;
}

void print_summary(std::ostream& out, const RunOutcome& outcome, const RunContext& context, int top) {
  out << context.source_path << " on " << context.model.name << " (" << context.device << ", " << context.dtype
      << "): " << outcome.stages.size() << (outcome.stages.size() == 1 ? " stage, " : " stages, ")
      << outcome.forwards() << (outcome.forwards() == 1 ? " forward, " : " forwards, ") << outcome.backwards()
      << (outcome.backwards() == 1 ? " backward, " : " backwards, ") << fixed(outcome.seconds, 2)
      << " s\n";
  if (!outcome.measured.scores.empty()) {
    out << "\nscores (top " << top << ")\n";
    for (const auto& [let, by_node] : outcome.measured.scores) {
      std::vector<std::pair<std::string, double>> ranked(by_node.begin(), by_node.end());
      std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
        return std::fabs(a.second) > std::fabs(b.second);
      });
      out << "  " << pad(let, 20);
      for (size_t i = 0; i < ranked.size() && i < static_cast<size_t>(top); ++i)
        out << (i ? "   " : "") << component_name(ranked[i].first) << " " << fixed(ranked[i].second);
      out << "\n";
    }
  }
  if (!outcome.measured.values.empty()) {
    out << "\nvalues\n";
    for (const auto& [name, v] : outcome.measured.values) out << "  " << pad(name, 20) << fixed(v, 4) << "\n";
  }
  // Circuits: the edges each circuit measure ran on, and the discovered ones.
  std::map<std::string, std::vector<std::string>> circuits;
  for (const auto& stage : outcome.stages)
    for (const auto& a : stage.plan.analyses)
      if (!a.edges.empty()) circuits.emplace(a.name, a.edges);
  for (const auto& [name, edges] : outcome.measured.circuits) circuits.emplace(name, edges);
  if (!circuits.empty()) {
    out << "\ncircuits\n";
    for (const auto& [name, edges] : circuits) {
      std::set<std::string> heads;
      for (const auto& e : edges) {
        const auto arrow = e.find("->");
        if (arrow == std::string::npos) continue;
        std::string target = e.substr(arrow + 2);
        if (auto lt = target.find('<'); lt != std::string::npos) target.resize(lt);
        for (const auto& n : {e.substr(0, arrow), target})
          if (n != "input" && n != "logits") heads.insert(n);
      }
      out << "  " << pad(name, 20) << edges.size() << (edges.size() == 1 ? " edge" : " edges");
      if (!heads.empty()) {
        out << " over";
        size_t shown = 0;
        for (const auto& h : heads) {
          if (shown++ == 12) {
            out << " ...";
            break;
          }
          out << " " << component_name(h);
        }
      }
      out << "\n";
    }
  }
}

int print_claims(std::ostream& out, const RunOutcome& outcome) {
  int failed = 0;
  for (const auto& c : outcome.claims) {
    if (!c.passed) ++failed;
    out << "  " << (c.passed ? "PASS    " : "FAIL    ") << c.expression << " " << c.comparator << " "
        << compact(c.threshold) << "   measured " << fixed(c.measured, 4) << "   (" << c.location << ")\n";
  }
  for (const auto& w : outcome.unmeasured) {
    ++failed;
    out << "  NOT RUN " << w.expression << " " << w.comparator << " " << w.bound << "   (" << w.location << ")\n";
  }
  return failed;
}

}  // namespace circuit::cli::run
