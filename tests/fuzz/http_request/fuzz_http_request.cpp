// Fuzz target for the server's request handling: the bytes are what a client sends on one
// connection to a server on 127.0.0.1:8765. As http_server.cpp does, Boost.Beast's request
// parser reads each header (16 KiB at most), the RequestPolicy checks it (Host, Origin,
// Content-Type), the token check runs, then the body (1 MiB at most) is read and the plain
// HttpRequest is answered by ApiRoutes::handle over a temporary workspace (an example circuit
// and a saved run with tensors), with a RunExecutor that does nothing; up to 8 keep-alive
// requests follow one another. A refused or malformed request, or a WebSocket upgrade, ends the
// connection, as in the server. handle() must never throw, answer a status outside 100..599 or
// a 500 (our bug), or give a header value that checked_header_value refuses (header injection).
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "server/api_routes.h"
#include "server/header_value.h"
#include "server/beast_request.h"
#include "server/request_policy.h"

namespace {

namespace fs = std::filesystem;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace circuit::server;

constexpr std::uint32_t kMaxHeaderBytes = 16 * 1024;  // as http_server.cpp
constexpr int kMaxRequestsPerInput = 8;

class NothingExecutor : public RunExecutor {
 public:
  RunReport run(const RunJob&, const std::atomic<bool>&, const ProgressFn&) override { return {}; }
};

std::string source_text(const std::string& relative) {
  std::ifstream in(fs::path(CIRCUIT_SOURCE_DIR) / relative, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

// A safetensors file with one float32 tensor [3, 2] holding 0..5.
std::string tensors_file() {
  std::string header = R"({"patterns/blocks.0.attn.hook_pattern":{"dtype":"F32","shape":[3,2],"data_offsets":[0,24]}})";
  while (header.size() % 8) header += ' ';
  std::string bytes(8, '\0');
  const std::uint64_t n = header.size();
  std::memcpy(bytes.data(), &n, 8);
  bytes += header;
  for (int i = 0; i < 6; ++i) {
    const float v = static_cast<float>(i);
    bytes.append(reinterpret_cast<const char*>(&v), 4);
  }
  return bytes;
}

// The workspace folder, made once per process; its files are put back after any input that
// may have changed them, so every input starts from the same state (crashes reproduce).
struct Folder {
  fs::path root;
  Folder() {
    std::string pattern = (fs::temp_directory_path() / "circuit-fuzz-http-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) std::abort();
    root = pattern;
    reset();
  }
  ~Folder() {
    std::error_code ignored;
    fs::remove_all(root, ignored);
  }
  void reset() const {
    std::error_code ignored;
    for (const auto& entry : fs::directory_iterator(root, ignored)) fs::remove_all(entry.path(), ignored);
    write(root / "examples/induction.circuit", source_text("examples/induction.circuit"));
    write(root / "notes/a.circuit", "model \"induction-2l\"\n");
    write(root / "results/old/results.json", R"({"source": "examples/old.circuit", "passed": false, "seconds": 1.5})");
    write(root / "results/old/circuit.json", R"({"format": "circuitry.circuit"})");
    write(root / "results/old/tensors.safetensors", tensors_file());
  }
};

// What lives across inputs: the folder, and the compiler with its loaded models (a cache).
struct Server {
  Folder folder;
  Workspace workspace{folder.root};
  LiveCompiler compiler{workspace, ""};
};

Server& server() {
  static Server s;
  return s;
}

bool may_change_state(const std::string& method) { return method != "GET" && method != "HEAD"; }

// Feeds the parser from data[used..size) until `done` says so or it can go no further; false
// when the request cannot be completed (the server would answer 400/413/431 or wait).
template <typename Done>
bool feed(http::request_parser<http::string_body>& parser, const uint8_t* data, size_t size, size_t& used, Done done) {
  beast::error_code error;
  while (!done() && used < size) {
    const size_t taken = parser.put(boost::asio::const_buffer(data + used, size - used), error);
    used += taken;
    if (error == http::error::need_more && taken > 0) {
      error = {};
      continue;
    }
    if (error || taken == 0) break;
  }
  if (!done() && !error && parser.got_some()) parser.put_eof(error);  // the client closed
  return !error && done();
}

void check_answer(const HttpResponse& answer) {
  if (answer.status < 100 || answer.status > 599 || answer.status == 500) std::abort();
  try {
    (void)checked_header_value("Content-Type", answer.content_type);
    for (const auto& [name, value] : answer.headers) (void)checked_header_value(name, value);
  } catch (const std::invalid_argument&) {
    std::abort();  // the server would answer 500: a name a client chose reached a header
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Server& s = server();
  // The session, its runs and the saved runs' cache start afresh for every input.
  SessionState session;
  NothingExecutor executor;
  RunQueue queue(session, executor);
  RunResults results(s.workspace);
  ApiRoutes routes(ApiContext{s.workspace, session, queue, results, s.compiler, AccessToken(), nullptr, nullptr});

  static const RequestPolicy policy("127.0.0.1", 8765, {});
  bool changed = false;
  size_t used = 0;
  for (int n = 0; n < kMaxRequestsPerInput && used < size; ++n) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxBodyBytes);
    parser.header_limit(kMaxHeaderBytes);
    if (!feed(parser, data, size, used, [&] { return parser.is_header_done(); })) break;
    // Everything decided from the header alone, before a byte of the body is read.
    HttpRequest request = header_of(parser.get());
    const auto length = parser.content_length();
    const bool has_body = length ? *length > 0 : parser.chunked();
    if (policy.check(request, has_body)) break;  // 403/415, and the connection ends
    const std::string path = request.target.substr(0, request.target.find('?'));
    if (!routes.admits(request)) break;  // 401 (no token here: never)
    if (path == "/api/events" && is_websocket_upgrade(request)) break;  // the event stream takes over
    parser.eager(true);
    if (!feed(parser, data, size, used, [&] { return parser.is_done(); })) break;
    auto message = parser.release();
    const bool keep_alive = message.keep_alive();
    request = header_of(message);
    request.body = std::move(message.body());
    if (message.method() == http::verb::head) request.method = "GET";  // as the server answers HEAD
    changed = changed || may_change_state(request.method);
    check_answer(routes.handle(request));
    if (!keep_alive) break;
  }
  queue.stop();
  if (changed) s.folder.reset();
  return 0;
}
