// Round trips of circuit documents through JSON, and the errors for malformed form.
#include <gtest/gtest.h>

#include <string>

#include "compiler/interchange/document_json.h"
#include "compiler/interchange/json_reader.h"
#include "compiler/interchange/sha256.h"
#include "test_data.h"

namespace circuit::interchange {
namespace {

using nlohmann::json;
using testing::data_json;
using testing::error_of;

CircuitDocument small_document() {
  CircuitDocument d;
  d.name = "ioi-fragment";
  d.model = {"gpt2", "gpt2-small", {12, 12, 12, 768, 64, 3072, 50257, 1024}, std::nullopt};
  Node in{.id = "input", .kind = NodeKind::Input};
  Node head{.id = "a9.h6", .kind = NodeKind::Attention, .layer = 9, .head = 6, .score = -0.125};
  Node feat{.id = "m3.f42@5", .kind = NodeKind::Mlp, .layer = 3, .position = 5, .feature = 42, .activation = 2.0};
  Node out{.id = "logits.t464@14", .kind = NodeKind::Logits, .position = 14, .token = 464, .doc = "the answer"};
  d.nodes = {in, head, feat, out};
  d.edges = {{.id = "input->a9.h6<q>", .source = "input", .target = "a9.h6", .input = EdgeInput::Q, .score = 0.5},
             {.id = "a9.h6->logits.t464@14", .source = "a9.h6", .target = "logits.t464@14", .in_circuit = false,
              .extensions = json{{"x", {1, 2, {{"y", nullptr}}}}}}};
  d.task = Task{.prompts = {"When Mary and John went", "When Tom and Ann went"}, .seed = -3,
                .answers = {" Mary", " Tom"}, .wrong_answers = {" John", " Ann"}};
  d.metric = Metric{"logit_diff", false};
  d.claims = {{.expression = "faithfulness(C)", .comparator = ">=", .threshold = 0.8, .measured = 0.875,
               .passed = true, .conditions = ClaimConditions{.dtype = "bf16", .seed = 1}}};
  d.provenance = Provenance{.tool = "circuitry", .tool_version = "0.1.0", .date = "2026-11-25"};
  d.extensions = json{{"anything", {{"deep", json::array({json::array({1.5})})}}}};
  return d;
}

TEST(DocumentJson, StructRoundTripIsExact) {
  const CircuitDocument d = small_document();
  const CircuitDocument back = read_document(document_to_json(d));
  EXPECT_EQ(back, d);
  // Through text as well: doubles survive printing.
  EXPECT_EQ(parse_document(document_to_json(d).dump(), "mem"), d);
}

TEST(DocumentJson, JsonRoundTripOfHandWrittenDocumentIsExact) {
  const json j = data_json("induction_circuit.json");
  EXPECT_EQ(document_to_json(read_document(j)), j);
}

TEST(DocumentJson, AbsentOptionalFieldsStayAbsent) {
  CircuitDocument d;
  d.model = {"llama", "tiny", {}, std::nullopt};
  const json j = document_to_json(d);
  EXPECT_FALSE(j.contains("task"));
  EXPECT_FALSE(j.contains("provenance"));
  EXPECT_FALSE(j.contains("extensions"));
  EXPECT_EQ(j["claims"], json::array());
  EXPECT_EQ(read_document(j), d);
}

TEST(DocumentJson, WrongTypeNamesPathAndTypes) {
  json j = data_json("induction_circuit.json");
  j["nodes"][3]["layer"] = "two";
  EXPECT_EQ(error_of([&] { read_document(j); }), "nodes[3].layer: expected an integer, got a string");
  j = data_json("induction_circuit.json");
  j["edges"][1]["score"] = json::array();
  EXPECT_EQ(error_of([&] { read_document(j); }), "edges[1].score: expected a number, got an array");
  j = data_json("induction_circuit.json");
  j["model"]["shape"]["n_heads"] = 4.5;
  EXPECT_EQ(error_of([&] { read_document(j); }),
            "model.shape.n_heads: expected an integer, got a number with a fraction");
}

TEST(DocumentJson, FormatAndVersionErrorsNameWhatIsSupported) {
  json j = data_json("induction_circuit.json");
  j["format"] = "circuitry.hookplan";
  EXPECT_EQ(error_of([&] { read_document(j); }),
            "format: unsupported format \"circuitry.hookplan\" (this build reads \"circuitry.circuit\" version 1)");
  j = data_json("induction_circuit.json");
  j["version"] = 2;
  EXPECT_EQ(error_of([&] { read_document(j); }), "version: unsupported version 2 (this build reads version 1)");
  j.erase("format");
  EXPECT_EQ(error_of([&] { read_document(j); }), "document: missing \"format\" (expected \"circuitry.circuit\")");
}

TEST(DocumentJson, MissingAndUnknownKeys) {
  json j = data_json("induction_circuit.json");
  j["edges"][0].erase("in_circuit");
  EXPECT_EQ(error_of([&] { read_document(j); }), "edges[0]: missing required key \"in_circuit\"");
  j = data_json("induction_circuit.json");
  j["nodes"][1]["scroe"] = 1;
  EXPECT_EQ(error_of([&] { read_document(j); }),
            "nodes[1].scroe: unknown key (tools keep their own data under \"extensions\")");
}

TEST(DocumentJson, EnumsAndRanges) {
  json j = data_json("induction_circuit.json");
  j["nodes"][1]["kind"] = "head";
  EXPECT_EQ(error_of([&] { read_document(j); }),
            "nodes[1].kind: unknown node kind \"head\" (expected input, attention, mlp, mlp_error or logits)");
  j = data_json("induction_circuit.json");
  j["claims"][0]["comparator"] = "=>";
  EXPECT_EQ(error_of([&] { read_document(j); }),
            "claims[0].comparator: unknown comparator \"=>\" (expected < <= > >= == !=)");
  j = data_json("induction_circuit.json");
  j["nodes"][1]["layer"] = -1;
  EXPECT_EQ(error_of([&] { read_document(j); }), "nodes[1].layer: -1 is out of range (0..2147483647)");
  j = data_json("induction_circuit.json");
  j["nodes"][1]["head"] = json::parse("18446744073709551615");
  EXPECT_EQ(error_of([&] { read_document(j); }),
            "nodes[1].head: 18446744073709551615 is out of range (0..2147483647)");
  j = data_json("induction_circuit.json");
  j["task"]["prompts"] = json::array();
  EXPECT_EQ(error_of([&] { read_document(j); }), "task.prompts: empty array (leave the key out instead)");
}

TEST(DocumentJson, HugeNumbersAndDeepNestingAreErrorsNotCrashes) {
  std::string text = data_json("induction_circuit.json").dump();
  const std::string huge = text;
  std::string with_inf = huge;
  with_inf.replace(with_inf.find("0.93"), 4, "1e999");
  EXPECT_EQ(error_of([&] { parse_document(with_inf, "f.json"); }), "f.json: invalid JSON: number overflow parsing '1e999'");
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(error_of([&] { parse_document(deep, "f.json"); }), "f.json: JSON nested deeper than 200 levels");
  EXPECT_NE(error_of([&] { parse_document("{\"format\": ", "f.json"); }).find("f.json: invalid JSON: parse error"),
            std::string::npos);
  EXPECT_EQ(error_of([&] { parse_document("[1]", "f.json"); }), "f.json: document: expected an object, got an array");
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

}  // namespace
}  // namespace circuit::interchange
