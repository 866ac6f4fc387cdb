// Each cross-reference and range check of validate_document(), with its exact message.
#include <gtest/gtest.h>

#include "compiler/interchange/document_json.h"
#include "compiler/interchange/validate_document.h"
#include "test_data.h"

namespace circuit::interchange {
namespace {

using nlohmann::json;
using testing::data_json;
using testing::error_of;

std::string error_after(const std::function<void(json&)>& edit) {
  json j = data_json("induction_circuit.json");
  edit(j);
  return error_of([&] { read_document(j); });
}

TEST(ValidateDocument, HandWrittenDocumentIsValid) {
  EXPECT_NO_THROW(read_document(data_json("induction_circuit.json")));
}

TEST(ValidateDocument, DuplicateNodeIds) {
  EXPECT_EQ(error_after([](json& j) { j["nodes"].push_back(j["nodes"][1]); }),
            "nodes[4].id: duplicate node id \"a0.h3\" (first at nodes[1])");
}

TEST(ValidateDocument, EdgesToMissingNodes) {
  EXPECT_EQ(error_after([](json& j) {
              j["edges"][2]["source"] = "a0.h2";
              j["edges"][2]["id"] = "a0.h2->a1.h1<k>";
            }),
            "edges[2].source: no node \"a0.h2\" in the document");
  EXPECT_EQ(error_after([](json& j) { j["edges"][4]["target"] = "m1"; }),
            "edges[4].target: no node \"m1\" in the document");
}

TEST(ValidateDocument, DuplicateEdges) {
  EXPECT_EQ(error_after([](json& j) { j["edges"].push_back(j["edges"][0]); }),
            "edges[6].id: duplicate edge \"input->a0.h3<q>\" (first at edges[0])");
}

TEST(ValidateDocument, IdsMustMatchFields) {
  EXPECT_EQ(error_after([](json& j) { j["nodes"][1]["head"] = 2; }),
            "nodes[1].id: \"a0.h3\" does not match the node's fields (expected \"a0.h2\")");
  EXPECT_EQ(error_after([](json& j) { j["edges"][4]["id"] = "a1.h1->out"; }),
            "edges[4].id: \"a1.h1->out\" does not match the edge's fields (expected \"a1.h1->logits\")");
}

TEST(ValidateDocument, KindSpecificFields) {
  EXPECT_EQ(error_after([](json& j) { j["nodes"][1].erase("head"); }),
            "nodes[1]: a node of kind attention needs a \"head\"");
  EXPECT_EQ(error_after([](json& j) { j["nodes"][0]["layer"] = 0; }),
            "nodes[0].layer: a node of kind input has no layer");
  EXPECT_EQ(error_after([](json& j) { j["nodes"][1]["feature"] = 3; }),
            "nodes[1].feature: only mlp nodes have a feature");
  EXPECT_EQ(error_after([](json& j) { j["edges"][4]["input"] = "q"; }),
            "edges[4].input: only edges into attention heads name a q, k or v input");
  EXPECT_EQ(error_after([](json& j) { j["edges"][0]["input"] = "o"; }),
            "edges[0].input: unknown input \"o\" (expected q, k or v)");
}

TEST(ValidateDocument, EdgeDirection) {
  EXPECT_EQ(error_after([](json& j) {
              j["edges"][4] = {{"id", "logits->a1.h1"}, {"source", "logits"}, {"target", "a1.h1"}, {"in_circuit", true}};
            }),
            "edges[4].source: logits cannot be the source of an edge");
}

TEST(ValidateDocument, IndicesWithinModelShape) {
  EXPECT_EQ(error_after([](json& j) {
              j["nodes"][2]["layer"] = 2;
              j["nodes"][2]["id"] = "a2.h1";
            }),
            "nodes[2].layer: 2 is out of range: the model has 2 layers");
  EXPECT_EQ(error_after([](json& j) {
              j["nodes"][2]["head"] = 4;
              j["nodes"][2]["id"] = "a1.h4";
            }),
            "nodes[2].head: 4 is out of range: the model has 4 heads");
  // 0 in the shape means "not known": no bound.
  json j = data_json("induction_circuit.json");
  j["model"]["shape"]["n_layers"] = 0;
  j["nodes"][2]["layer"] = 40;
  j["nodes"][2]["id"] = "a40.h1";
  for (auto& e : j["edges"]) {
    for (const char* end : {"source", "target"})
      if (e[end] == "a1.h1") e[end] = "a40.h1";
    e["id"] = e["source"].get<std::string>() + "->" + e["target"].get<std::string>() +
              (e.contains("input") ? "<" + e["input"].get<std::string>() + ">" : "");
  }
  EXPECT_NO_THROW(read_document(j));
}

TEST(ValidateDocument, HashesAndDates) {
  EXPECT_EQ(error_after([](json& j) { j["model"]["weights_sha256"] = "ABC"; }),
            "model.weights_sha256: expected 64 lowercase hex digits (a SHA-256)");
  EXPECT_EQ(error_after([](json& j) { j["provenance"]["date"] = "25/11/2026"; }),
            "provenance.date: \"25/11/2026\" is not an ISO-8601 date (e.g. 2026-11-25T13:40:00Z)");
  EXPECT_EQ(error_after([](json& j) { j["task"]["wrong_answers"] = {"a", "b"}; }),
            "task.wrong_answers: has 2 entries but answers has 1");
}

TEST(NodeIds, ParseIsTheInverseOfCanonical) {
  for (const char* id : {"input", "logits", "a0.h1", "m12", "m3.err@4", "m3.f42@5", "input.t7@0", "logits.t464"}) {
    const auto n = parse_node_id(id);
    ASSERT_TRUE(n.has_value()) << id;
    EXPECT_EQ(canonical_node_id(*n), id);
  }
  for (const char* bad : {"", "a1", "a1.h", "m", "a01.h1", "m3.t5", "input@", "x3", "a1.h2 ", "m3.f-1"})
    EXPECT_FALSE(parse_node_id(bad).has_value()) << bad;
}

}  // namespace
}  // namespace circuit::interchange
