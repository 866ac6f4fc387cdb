// The JSON form of hook plans: lossless round trip of every field, and one-line errors that
// name the JSON path for input that is not a plan.
#include <gtest/gtest.h>

#include <string>

#include "compiler/plan/plan_error.h"
#include "compiler/plan/plan_json.h"
#include "plan_fixtures.h"

namespace circuit::plan {
namespace {

using nlohmann::json;

TEST(PlanJson, RoundTripIsLossless) {
  const HookPlan plan = testing::everything_plan();
  const json j = plan_to_json(plan);
  EXPECT_EQ(j["format"], "circuitry.hookplan");
  EXPECT_EQ(j["version"], 1);
  const HookPlan back = plan_from_json(j);
  EXPECT_EQ(back, plan);
  EXPECT_EQ(plan_to_json(back), j);
  EXPECT_EQ(parse_plan(dump_plan(plan)), plan);
}

TEST(PlanJson, DefaultsAreLeftOut) {
  const json j = plan_to_json(testing::patching_sweep_plan(testing::toy_shape(), 2));
  const json& corrupt = j["passes"][1];
  EXPECT_FALSE(corrupt.contains("row_offset"));
  EXPECT_FALSE(corrupt.contains("interventions"));
  EXPECT_FALSE(corrupt.contains("annotations"));
  EXPECT_FALSE(j["batches"][0].contains("pad_side"));
}

std::string error_of(const json& j) {
  try {
    plan_from_json(j);
  } catch (const PlanError& e) {
    return e.what();
  }
  return "no error";
}

TEST(PlanJson, ErrorsNameTheJsonPath) {
  const json good = plan_to_json(testing::patching_sweep_plan(testing::toy_shape(), 2));
  json j = good;
  j["passes"][1]["metrics"][0]["answers"][1] = "ten";
  EXPECT_EQ(error_of(j), "passes[1].metrics[0].answers[1]: expected an integer, got a string");
  j = good;
  j["passes"][0]["intervention"] = json::array();
  EXPECT_EQ(error_of(j), "passes[0].intervention: unknown key");
  j = good;
  j["passes"][0].erase("batch");
  EXPECT_EQ(error_of(j), "passes[0]: missing key 'batch'");
  j = good;
  j["sweeps"][0]["intervention"]["action"] = "obliterate";
  EXPECT_EQ(error_of(j), "sweeps[0].intervention.action: unknown action 'obliterate'");
  j = good;
  j["model"]["n_layers"] = 1e300;
  EXPECT_EQ(error_of(j), "model.n_layers: expected an integer, got a number");
  j = good;
  j["model"]["n_heads"] = 18446744073709551615ull;
  EXPECT_EQ(error_of(j), "model.n_heads: 18446744073709551615 is too large");
  j = good;
  j["batches"][0]["rows"][0][0] = -4000000000LL;
  EXPECT_EQ(error_of(j), "batches[0].rows[0][0]: -4000000000 is out of range");
  j = good;
  j["version"] = 2;
  EXPECT_EQ(error_of(j), "version: unsupported version 2 (this build reads version 1)");
  j = good;
  j["format"] = "something.else";
  EXPECT_EQ(error_of(j), "format: expected \"circuitry.hookplan\", got \"something.else\"");
  EXPECT_EQ(error_of(json::array()), "expected an object, got an array");
}

TEST(PlanJson, HostileTextIsRejectedCleanly) {
  auto parse_error = [](const std::string& text) {
    try {
      parse_plan(text);
    } catch (const PlanError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(parse_error(std::string(100000, '[') + std::string(100000, ']')),
            "json: nested deeper than 64 levels");
  EXPECT_EQ(parse_error("{\"format\":\"circuitry.hookplan\",\"version\":1,\"model\":{\"family\":"
                        "\"llama\",\"family\":\"gpt2\"}}"),
            "json: duplicate key 'family'");
  EXPECT_NE(parse_error("{\"format\": ").find("json: "), std::string::npos);
  EXPECT_NE(parse_error("").find("json: "), std::string::npos);
  EXPECT_NE(parse_error("{\"format\":\"circuitry.hookplan\",\"version\":1,\"model\":{\"family\":"
                        "\"llama\",\"n_layers\":1e999}}")
                .find("json: [json.exception.out_of_range.406] number overflow"),
            std::string::npos);
  EXPECT_EQ(parse_error("{\"format\":\"circuitry.hookplan\",\"version\":1,\"model\":[],"
                        "\"batches\":[],\"passes\":[]}"),
            "model: expected an object, got an array");
}

TEST(PlanJson, ValuesMustFitFloats) {
  json j = plan_to_json(testing::everything_plan());
  j["passes"][1]["interventions"][0]["value"]["data"][0] = 1e39;
  EXPECT_EQ(error_of(j), "passes[1].interventions[0].value.data[0]: does not fit a 32-bit float");
}

}  // namespace
}  // namespace circuit::plan
