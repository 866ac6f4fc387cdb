#include "server/http_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <csignal>
#include <optional>
#include <stdexcept>

#include "server/event_stream.h"
#include "server/header_value.h"
#include "server/beast_request.h"
#include "server/request_policy.h"

namespace circuit::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::uint32_t kMaxHeaderBytes = 16 * 1024;
// A connection's slot is freed quickly when its client goes quiet: the whole header of a
// request within 5 s (of the connection, or of the first byte of a keep-alive request), 15 s
// between keep-alive requests, 30 s for a body (1 MiB at 35 KB/s), 60 s to take an answer.
constexpr auto kHeaderTimeout = std::chrono::seconds(5);
constexpr auto kKeepAliveTimeout = std::chrono::seconds(15);
constexpr auto kBodyTimeout = std::chrono::seconds(30);
constexpr auto kWriteTimeout = std::chrono::seconds(60);
constexpr auto kDrainTimeout = std::chrono::seconds(2);  // reading what a refused body still sends

http::response<http::string_body> build(HttpResponse&& answer, unsigned version, bool keep_alive, bool head) {
  http::response<http::string_body> response{static_cast<http::status>(answer.status), version};
  response.set(http::field::server, "circuit serve");
  response.set(http::field::content_type, checked_header_value("Content-Type", answer.content_type));
  response.set(http::field::cache_control, "no-store");
  for (auto& [name, value] : answer.headers) response.set(name, checked_header_value(name, value));
  response.keep_alive(keep_alive);
  response.body() = std::move(answer.body);
  response.prepare_payload();
  if (head) response.body().clear();  // HEAD: the length of what GET would send, no body
  return response;
}

// The Beast response of an answer. Every header value goes through checked_header_value: one
// that could inject a header line is our bug, answered 500 rather than sent.
http::response<http::string_body> to_beast(HttpResponse&& answer, unsigned version, bool keep_alive, bool head) {
  try {
    return build(std::move(answer), version, keep_alive, head);
  } catch (const std::invalid_argument& e) {
    return build(error_response(500, std::string("internal error: ") + e.what()), version, false, head);
  }
}

bool is_api_path(std::string_view path) { return path == "/api" || path.starts_with("/api/"); }

// What every connection shares; owned by HttpServer::Impl.
struct Shared {
  ApiRoutes& routes;
  SessionState& session;
  const RequestPolicy& policy;
  ClientLimits& limits;
  asio::thread_pool& writer;   // requests with a body: compiles and saves, one at a time
  asio::thread_pool& readers;  // every other API request
};

// One HTTP connection: requests one after another (keep-alive), until the client closes or
// goes quiet, a request is refused, malformed or too large, or it upgrades to the event stream.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket&& socket, Shared& shared, ClientSlot slot)
      : stream_(std::move(socket)), shared_(shared), slot_(std::move(slot)) {}

  void start() { read_header(); }

 private:
  // Between keep-alive requests: wait for the next one's first bytes, then read its header.
  void wait_for_next_request() {
    if (buffer_.size() > 0) return read_header();  // it has begun already
    stream_.expires_after(kKeepAliveTimeout);
    stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code error, size_t n) {
      if (error) return self->close_send();
      self->buffer_.commit(n);
      self->read_header();
    });
  }

  void read_header() {
    parser_.emplace();
    parser_->body_limit(kMaxBodyBytes);
    parser_->header_limit(kMaxHeaderBytes);
    stream_.expires_after(kHeaderTimeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code error, size_t) { self->on_header(error); });
  }

  // Everything decided from the header alone, before a byte of the body is read.
  void on_header(beast::error_code error) {
    if (error) return on_read_error(error);
    const HttpRequest request = header_of(parser_->get());
    const auto length = parser_->content_length();
    const bool has_body = length ? *length > 0 : parser_->chunked();
    if (auto refusal = shared_.policy.check(request, has_body)) return refuse(refusal->status, refusal->message, has_body);

    const std::string path = request.target.substr(0, request.target.find('?'));
    if (is_api_path(path)) {
      // Token guesses are throttled per address: while one waits, even the right token is
      // not looked at, so guessing on cannot tell right from wrong.
      const std::string& client = slot_.client();
      if (const int wait = shared_.limits.token_wait_seconds(client); wait > 0)
        return refuse(429, "too many requests with a wrong token from this address: try again in " + std::to_string(wait) + " s",
                      has_body, {{"Retry-After", std::to_string(wait)}});
      if (!shared_.routes.admits(request)) {
        shared_.limits.token_failed(client);
        HttpResponse answer = shared_.routes.handle(request);  // the 401, with its message
        drain_ = has_body;
        return write(to_beast(std::move(answer), parser_->get().version(), false, false));
      }
      shared_.limits.token_passed(client);
    }

    if (path == "/api/events" && is_websocket_upgrade(request)) {
      if (!slot_.become_websocket())
        return refuse(429, "too many event streams from this address (at most " +
                               std::to_string(shared_.limits.config().max_websockets_per_client) + ")",
                      has_body, {{"Retry-After", "10"}});
      std::make_shared<EventStream>(std::move(stream_), shared_.routes, shared_.session, std::move(slot_))
          ->start(parser_->release());
      return;
    }
    if (parser_->is_done()) return dispatch();
    stream_.expires_after(kBodyTimeout);
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code error, size_t) {
      if (error) return self->on_read_error(error);
      self->dispatch();
    });
  }

  // Answers a failed read when there is something to answer; the connection ends either way.
  void on_read_error(beast::error_code error) {
    if (error == http::error::end_of_stream) return close_send();
    if (error == http::error::body_limit) return refuse(413, "request body over 1 MiB", true);
    if (error == http::error::header_limit) return refuse(431, "request header over 16 KiB", false);
    if (error.category() == http::make_error_code(http::error::bad_target).category())
      return refuse(400, "malformed HTTP request (" + error.message() + ")", false);
    // closed, reset or timed out: nothing to answer
  }

  // The whole request is read: the web app's files are answered here, the API's work goes to
  // a worker, and its answer comes back to this connection's strand to be written.
  void dispatch() {
    auto message = parser_->release();
    const bool head = message.method() == http::verb::head;
    const unsigned version = message.version();
    const bool keep_alive = message.keep_alive();
    HttpRequest request = header_of(message);
    request.body = std::move(message.body());
    if (head) request.method = "GET";
    if (!is_api_path(request.target.substr(0, request.target.find('?'))))
      return write(to_beast(shared_.routes.handle(request), version, keep_alive, head));
    const bool writes = !request.body.empty() || request.method == "PUT";
    auto& pool = writes ? shared_.writer : shared_.readers;
    asio::post(pool, [self = shared_from_this(), request = std::move(request), version, keep_alive, head]() mutable {
      auto response = to_beast(self->shared_.routes.handle(request), version, keep_alive, head);
      auto executor = self->stream_.get_executor();
      asio::post(executor, [self = std::move(self), response = std::move(response)]() mutable {
        self->write(std::move(response));
      });
    });
  }

  void refuse(int status, const std::string& why, bool drain,
              std::vector<std::pair<std::string, std::string>> headers = {}) {
    drain_ = drain;
    HttpResponse answer = error_response(status, why);
    answer.headers = std::move(headers);
    write(to_beast(std::move(answer), 11, false, false));
  }

  void write(http::response<http::string_body>&& response) {
    auto message = std::make_shared<http::response<http::string_body>>(std::move(response));
    stream_.expires_after(kWriteTimeout);
    http::async_write(stream_, *message, [self = shared_from_this(), message](beast::error_code error, size_t) {
      if (error) return;
      if (!message->keep_alive()) return self->finish();
      self->wait_for_next_request();
    });
  }

  void close_send() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // Closes after the answer. A client still sending a refused body would see a reset, not the
  // answer, if the socket closed under it: so what it sends is read and dropped, for a while.
  void finish() {
    close_send();
    if (!drain_) return;
    stream_.expires_after(kDrainTimeout);
    drain_buffer_.resize(64 * 1024);
    drain_more();
  }
  void drain_more() {
    stream_.async_read_some(asio::buffer(drain_buffer_), [self = shared_from_this()](beast::error_code error, size_t) {
      if (!error) self->drain_more();
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Shared& shared_;
  ClientSlot slot_;
  bool drain_ = false;
  std::vector<char> drain_buffer_;
};

}  // namespace

struct HttpServer::Impl {
  // Declared first, destroyed last: every connection holds a slot of these limits.
  ClientLimits limits;
  std::optional<RequestPolicy> policy;  // once the port is known
  ApiRoutes& routes;
  SessionState& session;
  std::optional<Shared> shared;  // refers to the members around it
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  // Destroyed (joined) first, before the I/O context their tasks' connections live on.
  asio::thread_pool writer{1};
  asio::thread_pool readers{2};

  Impl(ApiRoutes& r, SessionState& s, const ClientLimitsConfig& config) : limits(config), routes(r), session(s) {}
  void accept();
};

void HttpServer::Impl::accept() {
  acceptor.async_accept(asio::make_strand(io), [this](beast::error_code error, tcp::socket socket) {
    if (error == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!error) {
      beast::error_code peer_error;
      const auto peer = socket.remote_endpoint(peer_error);
      // Past the server's bound or this client's share: refused at once rather than queued.
      ClientSlot slot = peer_error ? ClientSlot() : limits.admit(peer.address().to_string());
      if (slot) {
        std::make_shared<HttpSession>(std::move(socket), *shared, std::move(slot))->start();
      } else {
        beast::error_code ignored;
        socket.close(ignored);
      }
    }
    accept();
  });
}

HttpServer::HttpServer(ApiRoutes& routes, SessionState& session, const std::string& host, unsigned short port,
                       const HttpServerOptions& options)
    : impl_(std::make_unique<Impl>(routes, session, options.limits)) {
  const std::string where = host + ":" + std::to_string(port);
  beast::error_code error;
  const std::string bind_host = host == "localhost" ? "127.0.0.1" : host;
  auto address = asio::ip::make_address(bind_host.front() == '[' ? bind_host.substr(1, bind_host.size() - 2) : bind_host, error);
  if (error) throw std::runtime_error(where + ": not an IP address to listen on");
  tcp::endpoint endpoint{address, port};
  auto& a = impl_->acceptor;
  if (a.open(endpoint.protocol(), error); error) throw std::runtime_error(where + ": cannot open (" + error.message() + ")");
  a.set_option(asio::socket_base::reuse_address(true), error);
  if (a.bind(endpoint, error); error) throw std::runtime_error(where + ": cannot listen (" + error.message() + ")");
  if (a.listen(asio::socket_base::max_listen_connections, error); error)
    throw std::runtime_error(where + ": cannot listen (" + error.message() + ")");
  impl_->policy.emplace(host, this->port(), options.allowed_hosts);
  impl_->shared.emplace(Shared{routes, session, *impl_->policy, impl_->limits, impl_->writer, impl_->readers});
}

HttpServer::~HttpServer() = default;

unsigned short HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

void HttpServer::run(bool stop_on_signals) {
  std::optional<asio::signal_set> signals;
  if (stop_on_signals) {
    signals.emplace(impl_->io, SIGINT, SIGTERM);
    signals->async_wait([this](beast::error_code error, int) {
      if (!error) stop();
    });
  }
  impl_->accept();
  impl_->io.run();
}

void HttpServer::stop() {
  asio::post(impl_->io, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->io.stop();  // open connections end with the I/O context
  });
}

}  // namespace circuit::server
