// Emitted plans conform to the published schema/hookplan.schema.json (checked with the
// keyword subset in json_schema_subset.h), and the schema rejects what the reader rejects.
#include <gtest/gtest.h>

#include <fstream>

#include "compiler/optimize/optimize_plan.h"
#include "compiler/plan/plan_json.h"
#include "json_schema_subset.h"
#include "plan_fixtures.h"

namespace circuit::plan {
namespace {

using nlohmann::json;

const json& schema() {
  static const json s = [] {
    std::ifstream in(std::string(CIRCUIT_SOURCE_DIR) + "/schema/hookplan.schema.json");
    return json::parse(in);
  }();
  return s;
}

std::string joined(const std::vector<std::string>& errors) {
  std::string out;
  for (const auto& e : errors) out += e + "\n";
  return out;
}

TEST(PlanSchema, EmittedPlansConform) {
  const std::vector<HookPlan> plans = {
      testing::everything_plan(),
      testing::patching_sweep_plan(testing::smollm2_shape(), 3),
      optimize_plan(testing::patching_sweep_plan(testing::smollm2_shape(), 3), OptimizeOptions{}),
  };
  for (const HookPlan& plan : plans) {
    const auto errors = testing::schema_errors(schema(), plan_to_json(plan));
    EXPECT_TRUE(errors.empty()) << joined(errors);
  }
}

TEST(PlanSchema, RejectsWhatTheReaderRejects) {
  const json good = plan_to_json(testing::everything_plan());
  auto errors_after = [&](auto edit) {
    json j = good;
    edit(j);
    return testing::schema_errors(schema(), j);
  };
  EXPECT_EQ(errors_after([](json& j) { j["passes"][0]["bogus"] = 1; }),
            std::vector<std::string>{"passes[0].bogus: not allowed"});
  EXPECT_EQ(errors_after([](json& j) { j["version"] = 2; }),
            std::vector<std::string>{"version: expected 1"});
  EXPECT_EQ(errors_after([](json& j) { j["passes"][1]["interventions"][0]["action"] = "nuke"; }).size(), 1u);
  EXPECT_EQ(errors_after([](json& j) { j["passes"][1]["metrics"][0]["answers"][0] = 1.5; }),
            std::vector<std::string>{"passes[1].metrics[0].answers[0]: expected \"integer\""});
  EXPECT_EQ(errors_after([](json& j) { j["passes"][1]["interventions"][0]["select"]["positions"] = "last"; }),
            std::vector<std::string>{"passes[1].interventions[0].select.positions: matches 0 of oneOf's "
                                     "schemas, not 1"});
  EXPECT_EQ(errors_after([](json& j) { j["model"].erase("n_ctx"); }),
            std::vector<std::string>{"model: missing n_ctx"});
}

}  // namespace
}  // namespace circuit::plan
