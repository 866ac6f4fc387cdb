// HttpServer: the listener and the HTTP connections of `circuit serve` (Boost.Beast/Asio, one
// I/O thread): reads each request within bounds (1 MiB body, 16 KiB header, a minute per
// request), answers it through ApiRoutes, and hands WebSocket upgrades of /api/events to an
// EventStream. Serves until stop() or Ctrl-C. Part of the server layer (server/); Beast stays
// in the .cpp.
#pragma once

#include <memory>
#include <string>

#include "server/api_routes.h"
#include "server/session_state.h"

namespace circuit::server {

class HttpServer {
 public:
  // Binds and listens on host:port (port 0: a free one). Throws std::runtime_error naming the
  // address and the reason ("127.0.0.1:8765: cannot listen (Address already in use)").
  HttpServer(ApiRoutes& routes, SessionState& session, const std::string& host, unsigned short port);
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
