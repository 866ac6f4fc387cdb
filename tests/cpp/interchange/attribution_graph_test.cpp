// Import and export of attribution graphs (circuit-tracer / Neuronpedia JSON) on a small
// hand-written graph that follows circuit-tracer's export.
#include <gtest/gtest.h>

#include "compiler/interchange/attribution_graph.h"
#include "compiler/interchange/document_json.h"
#include "test_data.h"

namespace circuit::interchange {
namespace {

using nlohmann::json;
using testing::data_json;
using testing::error_of;

const json& node_named(const json& graph, const std::string& node_id) {
  for (const auto& n : graph["nodes"])
    if (n["node_id"] == node_id) return n;
  throw std::runtime_error("no node " + node_id);
}

TEST(AttributionGraph, DetectsKinds) {
  EXPECT_EQ(detect_json_kind(data_json("small_attribution_graph.json")), JsonKind::AttributionGraph);
  EXPECT_EQ(detect_json_kind(data_json("induction_circuit.json")), JsonKind::CircuitDocument);
  EXPECT_EQ(detect_json_kind(json::array()), JsonKind::Unknown);
}

TEST(AttributionGraph, ImportMapsNodesAndLinks) {
  const CircuitDocument d = import_attribution_graph(data_json("small_attribution_graph.json"), std::nullopt);
  EXPECT_EQ(d.name, "capital-of-texas");
  EXPECT_EQ(d.model.name, "gemma-2-2b");
  EXPECT_EQ(d.model.shape.n_layers, 26);  // logits sit at layer n_layers + 1 = 27
  ASSERT_TRUE(d.task.has_value());
  EXPECT_EQ(d.task->prompts, std::vector<std::string>{"The capital of Texas is"});
  ASSERT_EQ(d.nodes.size(), 5u);
  EXPECT_EQ(d.nodes[0].id, "input.t6037@4");
  EXPECT_EQ(d.nodes[0].kind, NodeKind::Input);
  EXPECT_EQ(d.nodes[1].id, "m3.f1024@4");
  EXPECT_EQ(d.nodes[1].feature, 1024);
  EXPECT_EQ(d.nodes[1].doc, "Texas");
  EXPECT_EQ(d.nodes[1].activation, 7.5);
  EXPECT_EQ(d.nodes[2].score, 0.75);
  EXPECT_EQ(d.nodes[3].id, "m7.err@4");
  EXPECT_EQ(d.nodes[3].kind, NodeKind::MlpError);
  EXPECT_EQ(d.nodes[4].id, "logits.t22605@5");
  EXPECT_EQ(d.nodes[4].doc, "Output \" Austin\" (p=0.450)");
  ASSERT_EQ(d.edges.size(), 4u);
  EXPECT_EQ(d.edges[2].id, "m7.err@4->m20.f15589@4");
  EXPECT_EQ(d.edges[2].score, -0.5);
  EXPECT_TRUE(d.edges[2].in_circuit);
  // The graph's own fields ride along in extensions.
  EXPECT_EQ(d.nodes[4].extensions->at("attribution_graph").at("is_target_logit"), true);
  // The result is a valid document that round-trips.
  EXPECT_EQ(read_document(document_to_json(d)), d);
}

TEST(AttributionGraph, ImportThenExportGivesTheGraphBack) {
  const json graph = data_json("small_attribution_graph.json");
  EXPECT_EQ(export_attribution_graph(import_attribution_graph(graph, std::nullopt)), graph);
}

TEST(AttributionGraph, ExportOfComponentCircuit) {
  const CircuitDocument d = read_document(data_json("induction_circuit.json"));
  const json g = export_attribution_graph(d);
  EXPECT_EQ(g["metadata"]["slug"], "induction");
  EXPECT_EQ(g["metadata"]["scan"], "induction-2l");
  const json& head = node_named(g, "a1.h1");
  EXPECT_EQ(head["feature_type"], "attention head");
  EXPECT_EQ(head["layer"], "1");
  EXPECT_EQ(head["feature"], 1);
  EXPECT_EQ(head["clerp"], "induction head");
  EXPECT_EQ(node_named(g, "logits")["layer"], "3");
  // q and k edges from input into a0.h3 merge into one link; the edge outside the circuit goes.
  ASSERT_EQ(g["links"].size(), 4u);
  EXPECT_EQ(g["links"][0]["source"], "input");
  EXPECT_EQ(g["links"][0]["target"], "a0.h3");
  EXPECT_DOUBLE_EQ(g["links"][0]["weight"].get<double>(), 0.9);
  // Exported and imported again, nodes keep their ids (no invented positions).
  const CircuitDocument back = import_attribution_graph(g, std::nullopt);
  ASSERT_EQ(back.nodes.size(), d.nodes.size());
  for (std::size_t i = 0; i < d.nodes.size(); ++i) EXPECT_EQ(back.nodes[i].id, d.nodes[i].id);
  EXPECT_EQ(back.edges[0].id, "input->a0.h3");
}

TEST(AttributionGraph, ExportWritesCircuitTracerIdsForPerTokenNodes) {
  CircuitDocument d;
  d.model = {"llama", "m", {4, 0, 0, 0, 0, 0, 0, 0}, std::nullopt};
  d.nodes = {{.id = "input.t9@0", .kind = NodeKind::Input, .position = 0, .token = 9},
             {.id = "m2.f77@1", .kind = NodeKind::Mlp, .layer = 2, .position = 1, .feature = 77},
             {.id = "m1.err@1", .kind = NodeKind::MlpError, .layer = 1, .position = 1},
             {.id = "logits.t5@1", .kind = NodeKind::Logits, .position = 1, .token = 5}};
  d.edges = {{.id = "m2.f77@1->logits.t5@1", .source = "m2.f77@1", .target = "logits.t5@1", .score = 3.0}};
  const json g = export_attribution_graph(d);
  EXPECT_EQ(g["nodes"][0]["node_id"], "E_9_0");
  EXPECT_EQ(g["nodes"][0]["feature_type"], "embedding");
  EXPECT_EQ(g["nodes"][1]["node_id"], "2_77_1");
  EXPECT_EQ(g["nodes"][1]["feature_type"], "cross layer transcoder");
  EXPECT_EQ(g["nodes"][2]["node_id"], "1_-1_1");
  EXPECT_EQ(g["nodes"][2]["feature_type"], "mlp reconstruction error");
  EXPECT_EQ(g["nodes"][3]["node_id"], "5_5_1");
  EXPECT_EQ(g["nodes"][3]["layer"], "5");
  EXPECT_EQ(g["links"][0], (json{{"source", "2_77_1"}, {"target", "5_5_1"}, {"weight", 3.0}}));
  const CircuitDocument back = import_attribution_graph(g, std::nullopt);
  for (std::size_t i = 0; i < d.nodes.size(); ++i) EXPECT_EQ(back.nodes[i].id, d.nodes[i].id);
  EXPECT_EQ(back.model.shape.n_layers, 4);
}

TEST(AttributionGraph, ImportErrors) {
  auto error_after = [](const std::function<void(json&)>& edit) {
    json g = data_json("small_attribution_graph.json");
    edit(g);
    return error_of([&] { import_attribution_graph(g, std::nullopt); });
  };
  EXPECT_EQ(error_after([](json& g) { g["links"][1]["target"] = "9_9_9"; }),
            "links[1].target: no node with node_id \"9_9_9\"");
  EXPECT_EQ(error_after([](json& g) { g["nodes"][2]["feature_type"] = "lorsa"; }),
            "nodes[2].feature_type: unsupported feature type \"lorsa\" (supported: embedding, cross layer "
            "transcoder, mlp reconstruction error, logit, attention head, mlp)");
  EXPECT_EQ(error_after([](json& g) { g["nodes"][1]["ctx_idx"] = "4"; }),
            "nodes[1].ctx_idx: expected an integer, got a string");
  EXPECT_EQ(error_after([](json& g) { g["nodes"][1]["layer"] = "three"; }),
            "nodes[1].layer: expected a layer number or \"E\", got \"three\"");
  EXPECT_EQ(error_after([](json& g) { g["nodes"][3]["layer"] = "E"; }),
            "nodes[3].layer: a mlp reconstruction error node needs a layer number, got \"E\"");
  EXPECT_EQ(error_after([](json& g) { g["nodes"].push_back(g["nodes"][0]); }),
            "nodes[5].node_id: duplicate node_id \"E_6037_4\"");
  EXPECT_EQ(error_after([](json& g) { g["links"][0]["weight"] = "big"; }),
            "links[0].weight: expected a number, got a string");
  EXPECT_EQ(error_after([](json& g) { g.erase("links"); }), "document: missing required key \"links\"");
}

}  // namespace
}  // namespace circuit::interchange
