// EventStream: one client's WebSocket on GET /api/events. It subscribes to the session, says
// hello with the session's state, then writes the session's events as they come (from the
// client's bounded queue: a client that reads slowly loses its oldest events, nobody waits for
// it), and answers pings. A client that goes away just ends its stream. Part of the server
// layer; only http_server.cpp and event_stream.cpp include this (Beast is heavy to compile).
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "server/api_routes.h"
#include "server/client_limits.h"
#include "server/session_state.h"

namespace circuit::server {

inline constexpr size_t kEventQueueCapacity = 256;       // events kept for a slow client
inline constexpr size_t kMaxClientMessageBytes = 64 * 1024;
// A client that sends nothing for 30 s is pinged; one that answers nothing for 60 s is dropped,
// and the upgrade (or the closing handshake) must complete within 5 s: idle sockets free their
// slots.
inline constexpr auto kWebSocketHandshakeTimeout = std::chrono::seconds(5);
inline constexpr auto kWebSocketIdleTimeout = std::chrono::seconds(60);

// The server's answer to one message a client sent on the event stream: `{"type":"pong"}` for
// `{"type":"ping"}`, nothing for anything else (other types, non-objects, malformed JSON).
// Pure and never throws, so the fuzzer (tests/fuzz/ws_message) drives it without a socket.
std::optional<std::string> answer_client_message(std::string_view message);

class EventStream : public std::enable_shared_from_this<EventStream> {
 public:
  // `slot`: this connection's share of its client's limits, held while the stream lives.
  EventStream(boost::beast::tcp_stream&& stream, ApiRoutes& routes, SessionState& session, ClientSlot slot);
  // Completes the upgrade the client asked for in `request`, then streams.
  void start(boost::beast::http::request<boost::beast::http::string_body> request);

 private:
  void on_accept(boost::beast::error_code error);
  void read();
  void on_read(boost::beast::error_code error);
  void write_next();
  void close();

  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  ApiRoutes& routes_;
  SessionState& session_;
  ClientSlot slot_;
  boost::beast::http::request<boost::beast::http::string_body> upgrade_;
  boost::beast::flat_buffer incoming_;
  std::shared_ptr<Subscriber> subscriber_;
  std::deque<std::shared_ptr<const std::string>> replies_;  // hello and pongs, before events
  std::shared_ptr<const std::string> writing_;              // the message being written
  bool closed_ = false;
};

}  // namespace circuit::server
