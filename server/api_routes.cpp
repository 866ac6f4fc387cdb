#include "server/api_routes.h"

#include <string_view>
#include <vector>

#include "server/header_value.h"

#ifdef CIRCUIT_WITH_WEB_ASSETS
#include "webview/embedded_assets.h"
#endif

namespace circuit::server {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kSavedPrefix = "saved:";

HttpResponse json_response(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

HttpResponse method_not_allowed(const HttpRequest& request, const std::string& allowed) {
  HttpResponse r = error_response(405, request.method + " " + request.target.substr(0, request.target.find('?')) +
                                           ": not allowed (use " + allowed + ")");
  r.headers.emplace_back("Allow", allowed);
  return r;
}

// The request's body as a JSON object; ApiError 400 (one line) otherwise.
nlohmann::json json_body(const HttpRequest& request) {
  auto body = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) throw ApiError(400, "body: not valid JSON");
  if (!body.is_object()) throw ApiError(400, "body: expected a JSON object");
  return body;
}

std::string string_field(const nlohmann::json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end()) throw ApiError(400, std::string("body: missing \"") + name + "\"");
  if (!it->is_string()) throw ApiError(400, std::string("body: \"") + name + "\" must be a string");
  return it->get<std::string>();
}

std::string decoded(std::string_view raw, const char* what) {
  std::string out;
  if (!percent_decode(raw, out)) throw ApiError(400, std::string(what) + ": bad %-escape in '" + std::string(raw) + "'");
  // A name with CR or LF could break a header (Content-Disposition) or a log line later.
  if (holds_control_character(out))
    throw ApiError(400, std::string(what) + " '" + std::string(raw) + "': holds a control character");
  return out;
}

nlohmann::json files_json(const Workspace& workspace) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : workspace.list_circuit_files())
    files.push_back({{"path", f.path}, {"size", f.size}, {"modified", f.modified}});
  return files;
}

std::string join_shape(const std::vector<std::int64_t>& shape) {
  std::string out;
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? "," : "") + std::to_string(shape[i]);
  return out;
}

}  // namespace

HttpResponse error_response(int status, const std::string& message) {
  return json_response(status, {{"error", message}});
}

HttpResponse web_app_response(const std::string& path) {
#ifdef CIRCUIT_WITH_WEB_ASSETS
  if (web::web_app_built()) {
    const web::WebAsset* asset = web::find_web_asset(path == "/" ? std::string_view("") : std::string_view(path).substr(1));
    if (!asset) return error_response(404, path + ": no such file in the web app");
    HttpResponse r;
    r.content_type = std::string(asset->mime);
    r.body = std::string(asset->data);
    return r;
  }
#endif
  if (path != "/" && path != "/index.html") return error_response(404, path + ": no such file (the web app is not built)");
  HttpResponse r;
  r.content_type = "text/html; charset=utf-8";
  r.body =
      "<!doctype html><meta charset=\"utf-8\"><title>circuit serve</title><p>The web app is not built into this "
      "binary (build it with Node.js, see webview/); the API answers at <a href=\"/api/session\">/api/session</a>.</p>\n";
  return r;
}

HttpResponse ApiRoutes::handle(const HttpRequest& request) noexcept {
  try {
    return route(request);
  } catch (const ApiError& e) {
    return error_response(e.status, e.what());
  } catch (const std::exception& e) {
    return error_response(500, std::string("internal error: ") + one_line(e.what()));
  } catch (...) {
    return error_response(500, "internal error");
  }
}

HttpResponse ApiRoutes::route(const HttpRequest& request) {
  const std::string_view target = request.target;
  const std::string path(target.substr(0, target.find('?')));
  if (path.empty() || path.front() != '/') throw ApiError(400, "request target '" + path + "': not a path");
  // The web app's files hold no workspace data; a page opened with ?token= cannot pass the
  // token on to the scripts and styles it loads, so they are served to anyone.
  if (!path.starts_with("/api/") && path != "/api") {
    if (request.method != "GET" && request.method != "HEAD") return method_not_allowed(request, "GET");
    return web_app_response(decoded(path, "path"));
  }
  if (!c_.token.admits(request))
    return error_response(401, path + ": this server needs its access token (Authorization: Bearer T or ?token=T)");
  if (request.body.size() > kMaxBodyBytes) throw ApiError(413, path + ": the body is over 1 MiB");

  const bool get = request.method == "GET";
  if (path == "/api/session") return get ? json_response(200, session_json()) : method_not_allowed(request, "GET");
  if (path == "/api/files") {
    if (!get) return method_not_allowed(request, "GET");
    return json_response(200, {{"files", files_json(c_.workspace)}});
  }
  if (path.starts_with("/api/files/")) return files_endpoint(request, decoded(path.substr(11), "path"));
  if (path == "/api/compile") return compile_endpoint(request);
  if (path == "/api/model") {
    if (!get) return method_not_allowed(request, "GET");
    if (c_.model_tree.is_null()) throw ApiError(404, "/api/model: this server has no model (pass --model)");
    return json_response(200, c_.model_tree);
  }
  if (path == "/api/runs") return runs_endpoint(request);
  if (path.starts_with("/api/runs/")) {
    const std::string_view rest = std::string_view(path).substr(10);
    const size_t slash = rest.find('/');
    const std::string id = decoded(rest.substr(0, slash), "run id");
    return run_endpoint(request, id, slash == std::string_view::npos ? std::string() : std::string(rest.substr(slash)));
  }
  if (path == "/api/events") throw ApiError(400, "/api/events: expects a WebSocket upgrade");
  throw ApiError(404, path + ": no such endpoint");
}

nlohmann::json ApiRoutes::session_json() const {
  return {{"version", CIRCUIT_VERSION},
          {"workspace", c_.workspace.root().string()},
          {"model", c_.model_summary},
          {"files", files_json(c_.workspace)},
          {"runs", all_runs()}};
}

HttpResponse ApiRoutes::files_endpoint(const HttpRequest& request, const std::string& path) {
  if (request.method == "GET") return json_response(200, {{"path", path}, {"text", c_.workspace.read_text(path)}});
  if (request.method != "PUT") return method_not_allowed(request, "GET, PUT");
  const fs::path file = c_.workspace.resolve_circuit_file(path);  // before the body: a bad path is the first error
  std::string text = string_field(json_body(request), "text");
  c_.workspace.write_text(path, text);
  auto report = c_.compiler.compile(file, std::move(text));
  // Every client watching the session sees the save and its diagnostics.
  c_.session.publish({{"type", "file"}, {"path", path}, {"diagnostics", report.diagnostics}});
  return json_response(200, {{"path", path}, {"diagnostics", std::move(report.diagnostics)}});
}

HttpResponse ApiRoutes::compile_endpoint(const HttpRequest& request) {
  if (request.method != "POST") return method_not_allowed(request, "POST");
  auto body = json_body(request);
  const std::string path = string_field(body, "path");
  const fs::path file = c_.workspace.resolve_circuit_file(path);
  auto report = c_.compiler.compile(file, string_field(body, "text"));
  return json_response(200, {{"path", path}, {"diagnostics", std::move(report.diagnostics)}, {"ms", report.ms}});
}

nlohmann::json ApiRoutes::all_runs() const {
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& r : c_.session.runs()) runs.push_back(run_to_json(r));
  for (const auto& r : c_.results.saved_runs()) runs.push_back(run_to_json(r));
  return runs;
}

HttpResponse ApiRoutes::runs_endpoint(const HttpRequest& request) {
  if (request.method == "GET") return json_response(200, {{"runs", all_runs()}});
  if (request.method != "POST") return method_not_allowed(request, "GET, POST");
  auto body = json_body(request);
  RunJob job;
  job.path = string_field(body, "path");
  job.file = c_.workspace.resolve_circuit_file(job.path);
  if (body.contains("text")) {
    std::string text = string_field(body, "text");
    c_.workspace.write_text(job.path, text);
    auto report = c_.compiler.compile(job.file, std::move(text));
    c_.session.publish({{"type", "file"}, {"path", job.path}, {"diagnostics", std::move(report.diagnostics)}});
  } else {
    std::error_code error;
    if (!fs::is_regular_file(job.file, error)) throw ApiError(404, "file '" + job.path + "': not found");
  }
  // Where `circuit run FILE` writes from the workspace folder: results/<stem>/.
  const std::string stem = job.file.stem().string();
  job.results = "results/" + stem;
  job.results_dir = c_.workspace.root() / "results" / stem;
  RunRecord run = c_.runs.submit(std::move(job));
  return json_response(201, {{"run", run_to_json(run)}});
}

fs::path ApiRoutes::results_folder_of(const std::string& id) const {
  if (id.starts_with(kSavedPrefix)) return c_.results.saved_folder(std::string_view(id).substr(kSavedPrefix.size()));
  auto run = c_.session.run(id);
  if (!run) throw ApiError(404, "run '" + id + "': no such run");
  if (run->state != RunState::Done)
    throw ApiError(409, "run '" + id + "': " + run_state_name(run->state) + ", it has no results");
  return c_.workspace.root() / run->results;
}

HttpResponse ApiRoutes::run_endpoint(const HttpRequest& request, const std::string& id, const std::string& rest) {
  const bool get = request.method == "GET";
  if (rest.empty()) {
    if (!get) return method_not_allowed(request, "GET");
    if (auto run = c_.session.run(id)) return json_response(200, {{"run", run_to_json(*run)}});
    if (id.starts_with(kSavedPrefix)) {
      c_.results.saved_folder(std::string_view(id).substr(kSavedPrefix.size()));  // 400 or 404
      for (const auto& r : c_.results.saved_runs())
        if (r.id == id) return json_response(200, {{"run", run_to_json(r)}});
    }
    throw ApiError(404, "run '" + id + "': no such run");
  }
  if (rest == "/cancel") {
    if (request.method != "POST") return method_not_allowed(request, "POST");
    if (id.starts_with(kSavedPrefix)) {
      c_.results.saved_folder(std::string_view(id).substr(kSavedPrefix.size()));  // 400 or 404
      throw ApiError(409, "run '" + id + "': results on disk, already done");
    }
    return json_response(200, {{"run", run_to_json(c_.runs.cancel(id))}});
  }
  if (!get) return method_not_allowed(request, "GET");
  if (rest == "/results") {
    HttpResponse r;
    r.body = read_result_file(results_folder_of(id), "results.json");
    return r;
  }
  if (rest == "/circuit") {
    const fs::path folder = results_folder_of(id);
    HttpResponse r;
    r.body = read_result_file(folder, "circuit.json");
    r.headers.emplace_back("Content-Disposition", attachment_disposition(folder.filename().string() + ".circuit.json"));
    return r;
  }
  if (rest == "/tensors") return json_response(200, list_tensors(results_folder_of(id)));
  if (rest.starts_with("/tensors/")) {
    const std::string name = decoded(std::string_view(rest).substr(9), "tensor name");
    const std::string rows = query_parameter(request.target, "rows");
    TensorBytes tensor = read_tensor(results_folder_of(id), name, rows);
    HttpResponse r;
    r.content_type = "application/octet-stream";
    r.headers.emplace_back("X-Shape", join_shape(tensor.shape));
    r.headers.emplace_back("X-Dtype", "float32");
    r.body = std::move(tensor.data);
    return r;
  }
  throw ApiError(404, "run '" + id + "'" + rest + ": no such endpoint");
}

}  // namespace circuit::server
