// ApiRoutes: the HTTP API of `circuit serve` (docs/server-api.md) as one function from a
// plain HttpRequest to an HttpResponse: the access check, the routing table, and each
// endpoint's work on the workspace, the session's runs, the results on disk and the live
// compiler. No sockets and no Beast here, so every endpoint is tested in-process; http_server
// feeds it, and hands WebSocket upgrades of /api/events to event_stream. Part of the server layer.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "server/access_token.h"
#include "server/http_message.h"
#include "server/live_compiler.h"
#include "server/run_queue.h"
#include "server/run_results.h"
#include "server/session_state.h"
#include "server/workspace.h"

namespace circuit::server {

inline constexpr std::size_t kMaxBodyBytes = std::size_t{1} << 20;  // 1 MiB; more is 413

// What the routes need; every reference outlives the routes.
struct ApiContext {
  Workspace& workspace;
  SessionState& session;
  RunQueue& runs;
  RunResults& results;
  LiveCompiler& compiler;
  AccessToken token;
  nlohmann::json model_summary;  // ModelSummary, or null when the server has no model
  nlohmann::json model_tree;     // ModelTree, or null
};

class ApiRoutes {
 public:
  explicit ApiRoutes(ApiContext context) : c_(std::move(context)) {}

  // Answers any request; never throws. Errors are `{"error": "..."}` with their status.
  HttpResponse handle(const HttpRequest& request) noexcept;

  // Whether the request may use the API (the token, when one is required).
  bool admits(const HttpRequest& request) const { return c_.token.admits(request); }

  // GET /api/session's answer, also the WebSocket's hello.
  nlohmann::json session_json() const;

 private:
  HttpResponse route(const HttpRequest& request);
  HttpResponse files_endpoint(const HttpRequest& request, const std::string& path);
  HttpResponse compile_endpoint(const HttpRequest& request);
  HttpResponse runs_endpoint(const HttpRequest& request);
  HttpResponse run_endpoint(const HttpRequest& request, const std::string& id, const std::string& rest);
  nlohmann::json all_runs() const;
  std::filesystem::path results_folder_of(const std::string& id) const;

  ApiContext c_;
};

// The embedded web app's file at `path` ("/" for index.html), or a one-line page saying that
// the app is not built into this binary.
HttpResponse web_app_response(const std::string& path);

}  // namespace circuit::server
