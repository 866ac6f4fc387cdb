// HttpServer: the listener and the HTTP connections of `circuit serve` (Boost.Beast/Asio): one
// I/O thread reads each request within bounds (1 MiB body, 16 KiB header, 5 s for a header,
// 15 s idle between keep-alive requests, 30 s for a body), applies the RequestPolicy (Host,
// Origin, Content-Type) and each client's ClientLimits (connections, WebSockets, token
// guesses) before the body is read, and hands the API's work to worker threads (one for the
// requests that compile or write, two for the rest), so a long compile never holds up another
// client's request; the web app's own files are answered on the I/O thread. WebSocket upgrades
// of /api/events go to an EventStream. Serves until stop() or Ctrl-C. Part of the server layer
// (server/); Beast stays in the .cpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "server/api_routes.h"
#include "server/client_limits.h"
#include "server/session_state.h"

namespace circuit::server {

struct HttpServerOptions {
  std::vector<std::string> allowed_hosts;  // --allow-host: more names the Host header may give
  ClientLimitsConfig limits;
};

class HttpServer {
 public:
  // Binds and listens on host:port (port 0: a free one). Throws std::runtime_error naming the
  // address and the reason ("127.0.0.1:8765: cannot listen (Address already in use)"), and
  // std::invalid_argument for an --allow-host that is not a host name.
  HttpServer(ApiRoutes& routes, SessionState& session, const std::string& host, unsigned short port,
             const HttpServerOptions& options = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  unsigned short port() const;  // the port bound
  // Serves on the calling thread until stop(), or SIGINT/SIGTERM when `stop_on_signals`.
  void run(bool stop_on_signals);
  // From any thread: stops accepting, ends every connection and makes run() return.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace circuit::server
