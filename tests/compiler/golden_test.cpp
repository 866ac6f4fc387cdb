// The golden-test driver: every tests/compiler/cases/*.case file is one test. A case is the
// .circuit input, a line `----`, and the exact expected output. The first line may name the
// mode: `// mode: check` (default: the diagnostics), `ast`, `plan` (the hook plan before optimizing),
// `fmt` or `tokens`. A plan case may hold a line `// measured: {JSON}` (measured_values_json.h):
// the plan is then the next stage of a run, lowered with those measurements.
// CIRCUIT_UPDATE_GOLDEN=1 rewrites the expectations instead (scripts/update_golden.sh).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "compiler/ast/ast_json.h"
#include "compiler/check/model_provider.h"
#include "compiler/diagnostics/render.h"
#include "compiler/driver/compilation.h"
#include "compiler/format/formatter.h"
#include "compiler/lower/lower.h"
#include "compiler/lower/measured_values_json.h"
#include "compiler/plan/plan_json.h"
#include "compiler/plan/validate_plan.h"
#include "compiler/parse/parser.h"

namespace fs = std::filesystem;
using namespace circuit::compiler;

namespace {

const std::string kCases = std::string(CIRCUIT_SOURCE_DIR) + "/tests/compiler/cases";
const std::string kSeparator = "----\n";

struct Case {
  std::string input;
  std::string expected;
  std::string mode = "check";
};

Case read_case(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  Case c;
  size_t at = all.rfind("\n" + kSeparator);
  if (at == std::string::npos) {
    c.input = all;
  } else {
    c.input = all.substr(0, at + 1);
    c.expected = all.substr(at + 1 + kSeparator.size());
  }
  const std::string marker = "// mode: ";
  if (c.input.rfind(marker, 0) == 0) c.mode = c.input.substr(marker.size(), c.input.find('\n') - marker.size());
  return c;
}

ModelProvider& models() {
  static FolderModelProvider provider("../../../models");  // relative: stable messages
  return provider;
}

// What the compiler prints for a case. Paths are shown relative to the cases folder.
std::string run_case(const std::string& name, const Case& c) {
  std::string path = name + ".circuit";
  if (c.mode == "tokens") return dump_tokens(SourceText(path, c.input));
  if (c.mode == "fmt") {
    SourceText source(path, c.input);
    Diagnostics diagnostics;
    ast::File file = parse_source(source, diagnostics);
    if (diagnostics.has_errors()) return render_text(diagnostics.all());
    return format_file(file);
  }
  CompileOptions options;
  options.load.search_path = {"../../../stdlib"};
  options.models = &models();
  auto compilation = check_text(path, c.input, options);
  if (c.mode == "ast") return ast::to_json(compilation->program.main()->file).dump(2) + "\n";
  if (c.mode == "plan" && !compilation->diagnostics.has_errors()) {
    Diagnostics lowering;
    MeasuredValues measured;
    const std::string marker = "// measured: ";
    if (size_t at = c.input.find("\n" + marker); at != std::string::npos) {
      size_t begin = at + 1 + marker.size();
      measured = measured_from_json(nlohmann::json::parse(c.input.substr(begin, c.input.find('\n', begin) - begin)));
    }
    auto plan = lower_program(*compilation, lowering, measured);
    std::string out = render_text(lowering.all());
    if (lowering.has_errors()) return out;
    circuit::plan::validate_plan(plan);
    return out + circuit::plan::dump_plan(plan) + "\n";
  }
  return render_text(compilation->diagnostics.all());
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(kCases))
    if (entry.path().extension() == ".case") names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, Matches) {
  fs::current_path(kCases);  // imports and displayed paths are relative to the cases folder
  fs::path path = fs::path(kCases) / (GetParam() + ".case");
  Case c = read_case(path);
  std::string actual = run_case(GetParam(), c);
  const char* update = std::getenv("CIRCUIT_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << c.input << kSeparator << actual;
    return;
  }
  EXPECT_EQ(c.expected, actual) << "case " << path << " (regenerate with scripts/update_golden.sh)";
}

INSTANTIATE_TEST_SUITE_P(Cases, Golden, ::testing::ValuesIn(case_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
