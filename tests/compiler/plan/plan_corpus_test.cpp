// The plan_json fuzz seed corpus stays meaningful: valid_*.json plans pass the validator and
// invalid_*.json plans are rejected with a one-line PlanError.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "compiler/plan/plan_error.h"
#include "compiler/plan/plan_json.h"
#include "compiler/plan/validate_plan.h"

namespace circuit::plan {
namespace {

TEST(PlanCorpus, ValidAndInvalidSeeds) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(CIRCUIT_SOURCE_DIR) / "tests/fuzz/plan_json/corpus";
  int valid = 0, invalid = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    std::string error;
    try {
      validate_plan(parse_plan(text.str()));
    } catch (const PlanError& e) {
      error = e.what();
    }
    if (name.rfind("valid_", 0) == 0) {
      EXPECT_EQ(error, "") << name;
      ++valid;
    } else if (name.rfind("invalid_", 0) == 0) {
      EXPECT_NE(error, "") << name;
      EXPECT_EQ(error.find('\n'), std::string::npos) << name;
      ++invalid;
    }
  }
  EXPECT_GE(valid, 2);
  EXPECT_GE(invalid, 5);
}

}  // namespace
}  // namespace circuit::plan
