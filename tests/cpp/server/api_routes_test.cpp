// Every API route in-process, as docs/server-api.md specifies it: happy paths, malformed and
// oversized bodies, hostile paths (plain and %-encoded), unknown runs and endpoints, the
// token, runs through a stand-in executor that writes results, saved runs and their tensors.
// The live compiler is the real one, on examples/induction.circuit and the model's shapes.
#include "server/api_routes.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "temp_workspace.h"

namespace circuit::server {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::TempWorkspace;

std::string source_text(const std::string& relative) {
  std::ifstream in(fs::path(CIRCUIT_SOURCE_DIR) / relative, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes what `circuit run` would, at once: results.json and circuit.json.
class WritingExecutor : public RunExecutor {
 public:
  RunReport run(const RunJob& job, const std::atomic<bool>&, const ProgressFn& progress) override {
    progress(1, 2, "stage 1");
    fs::create_directories(job.results_dir);
    write_file_atomically(job.results_dir / "results.json",
                          nlohmann::json{{"format", "circuitry.results"}, {"source", job.file.string()}, {"passed", true}}.dump());
    write_file_atomically(job.results_dir / "circuit.json", R"({"format": "circuitry.circuit"})");
    return RunReport{true};
  }
};

// A safetensors file with one float32 tensor [3, 2] holding 0..5.
void write_tensors(const fs::path& path) {
  std::string header = R"({"patterns/blocks.0.attn.hook_pattern":{"dtype":"F32","shape":[3,2],"data_offsets":[0,24]}})";
  while (header.size() % 8) header += ' ';
  std::string bytes(8, '\0');
  const std::uint64_t n = header.size();
  std::memcpy(bytes.data(), &n, 8);
  bytes += header;
  for (int i = 0; i < 6; ++i) {
    float v = static_cast<float>(i);
    bytes.append(reinterpret_cast<const char*>(&v), 4);
  }
  std::ofstream(path, std::ios::binary) << bytes;
}

class ApiRoutesTest : public ::testing::Test {
 protected:
  ApiRoutesTest()
      : workspace(prepare(t)), results(workspace), compiler(workspace, ""), queue(session, executor),
        routes(ApiContext{workspace, session, queue, results, compiler, AccessToken(), nullptr, nullptr}) {}

  static const fs::path& prepare(const TempWorkspace& t) {
    t.write("examples/induction.circuit", source_text("examples/induction.circuit"));
    t.write("results/old/results.json", R"({"source": "examples/old.circuit", "passed": false, "seconds": 1.5})");
    t.write("results/old/circuit.json", R"({"format": "circuitry.circuit"})");
    write_tensors(t.root / "results/old/tensors.safetensors");
    return t.root;
  }

  HttpResponse call(const std::string& method, const std::string& target, const std::string& body = "") {
    HttpRequest r;
    r.method = method;
    r.target = target;
    r.body = body;
    return routes.handle(r);
  }
  nlohmann::json json_of(const HttpResponse& r) { return nlohmann::json::parse(r.body); }

  void wait_done(const std::string& id) {
    for (int i = 0; i < 1000; ++i) {
      auto run = session.run(id);
      if (run && run_ended(run->state)) return;
      std::this_thread::sleep_for(5ms);
    }
    FAIL() << id << " did not end";
  }

  TempWorkspace t;
  Workspace workspace;
  SessionState session;
  RunResults results;
  LiveCompiler compiler;
  WritingExecutor executor;
  RunQueue queue;
  ApiRoutes routes;
};

TEST_F(ApiRoutesTest, SessionListsFilesAndSavedRuns) {
  auto r = call("GET", "/api/session");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json_of(r);
  EXPECT_EQ(j["workspace"], workspace.root().string());
  EXPECT_TRUE(j["model"].is_null());
  ASSERT_EQ(j["files"].size(), 1u);
  EXPECT_EQ(j["files"][0]["path"], "examples/induction.circuit");
  ASSERT_EQ(j["runs"].size(), 1u);
  EXPECT_EQ(j["runs"][0]["id"], "saved:old");
  EXPECT_EQ(j["runs"][0]["state"], "done");
  EXPECT_EQ(j["runs"][0]["passed"], false);
  EXPECT_EQ(j["runs"][0]["path"], "examples/old.circuit");
  EXPECT_EQ(j["runs"][0]["results"], "results/old");
}

TEST_F(ApiRoutesTest, ReadsFiles) {
  auto r = call("GET", "/api/files/examples/induction.circuit");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json_of(r)["text"], source_text("examples/induction.circuit"));
  EXPECT_EQ(json_of(call("GET", "/api/files"))["files"][0]["path"], "examples/induction.circuit");
  EXPECT_EQ(call("GET", "/api/files/examples%2Finduction.circuit").status, 200);
  EXPECT_EQ(call("GET", "/api/files/missing.circuit").status, 404);
}

TEST_F(ApiRoutesTest, RefusesPathsLeavingTheWorkspace) {
  for (const char* target : {"/api/files/../secret.circuit", "/api/files/%2e%2e/secret.circuit",
                             "/api/files/%2E%2E%2Fsecret.circuit", "/api/files/examples/..%2F..%2Fx.circuit",
                             "/api/files/%2Fetc%2Fx.circuit", "/api/files/a%5Cb.circuit", "/api/files/a%00.circuit",
                             "/api/files/%zz.circuit", "/api/files/examples/induction.txt"}) {
    auto r = call("GET", target);
    EXPECT_EQ(r.status, 400) << target << ": " << r.body;
    EXPECT_TRUE(json_of(r).contains("error"));
  }
  const std::string outside = t.root.filename().string() + "-escaped.circuit";
  EXPECT_EQ(call("PUT", "/api/files/%2e%2e/" + outside, R"({"text": "x"})").status, 400);
  EXPECT_FALSE(fs::exists(t.root.parent_path() / outside));
}

TEST_F(ApiRoutesTest, RefusesNamesWithControlCharacters) {
  // A CR/LF name would come back inside a header (Content-Disposition) or a log line.
  EXPECT_EQ(call("PUT", "/api/files/inj%0D%0AX-Injected:%20yes.circuit", R"({"text": "x"})").status, 400);
  EXPECT_EQ(call("POST", "/api/runs", R"({"path": "inj\r\nX: y.circuit", "text": "x"})").status, 400);
  EXPECT_EQ(call("GET", "/api/runs/saved:a%0Ab/circuit").status, 400);
  EXPECT_EQ(call("GET", "/api/runs/r1/tensors/a%0D%0Ab").status, 400);
  for (const auto& entry : fs::recursive_directory_iterator(t.root))
    EXPECT_EQ(entry.path().filename().string().find_first_of("\r\n"), std::string::npos) << entry.path();
}

TEST_F(ApiRoutesTest, SavesFilesAndReportsDiagnosticsToEveryClient) {
  auto client = session.subscribe(16, nullptr);
  auto r = call("PUT", "/api/files/new/a.circuit", R"({"text": "model \"induction-2l\"\nlet x = head 9.9\n"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(t.read("new/a.circuit"), "model \"induction-2l\"\nlet x = head 9.9\n");
  auto j = json_of(r);
  EXPECT_EQ(j["path"], "new/a.circuit");
  ASSERT_FALSE(j["diagnostics"].empty());
  auto event = client->pop();
  ASSERT_NE(event, nullptr);
  auto e = nlohmann::json::parse(*event);
  EXPECT_EQ(e["type"], "file");
  EXPECT_EQ(e["path"], "new/a.circuit");
  EXPECT_EQ(e["diagnostics"], j["diagnostics"]);
}

TEST_F(ApiRoutesTest, RefusesMalformedBodies) {
  for (const char* body : {"{not json", "[1, 2]", "{}", R"({"text": 3})"}) {
    auto r = call("PUT", "/api/files/a.circuit", body);
    EXPECT_EQ(r.status, 400) << body << ": " << r.body;
    EXPECT_EQ(r.body.find('\n'), std::string::npos) << "one line";
  }
  EXPECT_FALSE(fs::exists(t.root / "a.circuit"));
  EXPECT_EQ(call("POST", "/api/compile", "").status, 400);
  EXPECT_EQ(call("POST", "/api/runs", "{\"path\": 1}").status, 400);
  EXPECT_EQ(call("PUT", "/api/files/a.circuit", std::string(kMaxBodyBytes + 1, ' ')).status, 413);
}

TEST_F(ApiRoutesTest, CompilesTextAsTyped) {
  const std::string good = source_text("examples/induction.circuit");
  auto r = call("POST", "/api/compile", nlohmann::json{{"path", "examples/induction.circuit"}, {"text", good}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json_of(r);
  EXPECT_TRUE(j["diagnostics"].empty()) << j.dump();
  EXPECT_LT(j["ms"].get<double>(), 2000);

  // The same text with an unknown name on line 3: the error's span is exactly that name.
  const std::string bad = "model \"induction-2l\"\nuse \"induction.circuit\"\nlet p = previous_token_scroe(repeated_tokens)\n";
  r = call("POST", "/api/compile", nlohmann::json{{"path", "examples/x.circuit"}, {"text", bad}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = json_of(r)["diagnostics"];
  ASSERT_GE(d.size(), 1u) << d.dump();
  EXPECT_EQ(d[0]["file"], "examples/x.circuit");
  EXPECT_EQ(d[0]["severity"], "error");
  EXPECT_EQ(d[0]["line"], 3);
  EXPECT_EQ(d[0]["col"], 9);
  EXPECT_EQ(d[0]["end_line"], 3);
  EXPECT_EQ(d[0]["end_col"], 9 + static_cast<int>(std::strlen("previous_token_scroe")));
  EXPECT_FALSE(fs::exists(t.root / "examples/x.circuit")) << "compile must not save";
}

TEST_F(ApiRoutesTest, RunsAFileAndServesItsResults) {
  auto r = call("POST", "/api/runs", R"({"path": "examples/induction.circuit"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = json_of(r)["run"]["id"];
  EXPECT_EQ(id, "r1");
  wait_done(id);
  auto run = json_of(call("GET", "/api/runs/r1"))["run"];
  EXPECT_EQ(run["state"], "done");
  EXPECT_EQ(run["results"], "results/induction");
  EXPECT_EQ(run["passed"], true);
  EXPECT_EQ(json_of(call("GET", "/api/runs/r1/results"))["passed"], true);
  auto circuit = call("GET", "/api/runs/r1/circuit");
  ASSERT_EQ(circuit.status, 200);
  ASSERT_EQ(circuit.headers.size(), 1u);
  EXPECT_EQ(circuit.headers[0].first, "Content-Disposition");
  EXPECT_EQ(circuit.headers[0].second, "attachment; filename=\"induction.circuit.json\"");
  EXPECT_EQ(json_of(call("GET", "/api/runs/r1/tensors"))["tensors"].size(), 0u);
  // The session's run first, then the results on disk, its own included.
  auto runs = json_of(call("GET", "/api/runs"))["runs"];
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0]["id"], "r1");
  EXPECT_EQ(runs[1]["id"], "saved:induction");
  EXPECT_EQ(runs[1]["path"], "examples/induction.circuit");
  EXPECT_EQ(runs[2]["id"], "saved:old");
  EXPECT_EQ(call("POST", "/api/runs/r1/cancel").status, 409);
}

TEST_F(ApiRoutesTest, RunsTextSavedFirst) {
  auto r = call("POST", "/api/runs", R"({"path": "b.circuit", "text": "model \"induction-2l\"\n"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(t.read("b.circuit"), "model \"induction-2l\"\n");
  EXPECT_EQ(call("POST", "/api/runs", R"({"path": "missing.circuit"})").status, 404);
}

TEST_F(ApiRoutesTest, UnknownRunsAndEndpoints) {
  EXPECT_EQ(call("GET", "/api/runs/r42").status, 404);
  EXPECT_EQ(call("GET", "/api/runs/r42/results").status, 404);
  EXPECT_EQ(call("POST", "/api/runs/r42/cancel").status, 404);
  EXPECT_EQ(call("GET", "/api/runs/saved:nothing").status, 404);
  EXPECT_EQ(call("GET", "/api/runs/saved:..%2Fx/results").status, 400);
  EXPECT_EQ(call("POST", "/api/runs/saved:old/cancel").status, 409);
  EXPECT_EQ(call("GET", "/api/nothing").status, 404);
  EXPECT_EQ(call("GET", "/api/model").status, 404);  // this server has no model
  EXPECT_EQ(call("GET", "/api/events").status, 400);  // only as a WebSocket
  auto r = call("DELETE", "/api/files/examples/induction.circuit");
  EXPECT_EQ(r.status, 405);
  EXPECT_TRUE(fs::exists(t.root / "examples/induction.circuit"));
}

TEST_F(ApiRoutesTest, ServesSavedRunsAndTheirTensors) {
  auto run = json_of(call("GET", "/api/runs/saved:old"))["run"];
  EXPECT_EQ(run["state"], "done");
  auto list = json_of(call("GET", "/api/runs/saved:old/tensors"))["tensors"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["name"], "patterns/blocks.0.attn.hook_pattern");
  EXPECT_EQ(list[0]["dtype"], "float32");
  EXPECT_EQ(list[0]["shape"], nlohmann::json({3, 2}));

  auto r = call("GET", "/api/runs/saved:old/tensors/patterns%2Fblocks.0.attn.hook_pattern");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/octet-stream");
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"X-Shape", "3,2"}));
  ASSERT_EQ(r.body.size(), 24u);
  float values[6];
  std::memcpy(values, r.body.data(), 24);
  EXPECT_EQ(values[5], 5.0f);

  r = call("GET", "/api/runs/saved%3Aold/tensors/patterns%2Fblocks.0.attn.hook_pattern?rows=1..3");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers[0].second, "2,2");
  ASSERT_EQ(r.body.size(), 16u);
  std::memcpy(values, r.body.data(), 16);
  EXPECT_EQ(values[0], 2.0f);

  EXPECT_EQ(call("GET", "/api/runs/saved:old/tensors/patterns%2Fblocks.0.attn.hook_pattern?rows=2..9").status, 400);
  EXPECT_EQ(call("GET", "/api/runs/saved:old/tensors/patterns%2Fblocks.0.attn.hook_pattern?rows=x").status, 400);
  EXPECT_EQ(call("GET", "/api/runs/saved:old/tensors/nothing").status, 404);
}

TEST_F(ApiRoutesTest, TheWebAppPageAnswersWithoutTheApi) {
  auto r = call("GET", "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type.rfind("text/html", 0), 0u);
  EXPECT_EQ(call("POST", "/").status, 405);
}

TEST(ApiRoutesToken, RequestsWithoutTheTokenGet401) {
  TempWorkspace t;
  Workspace workspace(t.root);
  SessionState session;
  RunResults results(workspace);
  LiveCompiler compiler(workspace, "");
  WritingExecutor executor;
  RunQueue queue(session, executor);
  ApiRoutes routes(ApiContext{workspace, session, queue, results, compiler, AccessToken("tok"), nullptr, nullptr});
  HttpRequest r;
  r.method = "GET";
  r.target = "/api/session";
  EXPECT_EQ(routes.handle(r).status, 401);
  r.target = "/api/session?token=tok";
  EXPECT_EQ(routes.handle(r).status, 200);
  r.target = "/api/files";
  r.headers["authorization"] = "Bearer tok";
  EXPECT_EQ(routes.handle(r).status, 200);
  r.headers.clear();
  r.target = "/";
  EXPECT_EQ(routes.handle(r).status, 200);  // the app's own files carry no workspace data
}

}  // namespace
}  // namespace circuit::server
