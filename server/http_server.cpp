#include "server/http_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/signal_set.hpp>
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

namespace circuit::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::uint32_t kMaxHeaderBytes = 16 * 1024;
constexpr auto kRequestTimeout = std::chrono::seconds(60);   // a slow sender cannot hold a connection
constexpr auto kDrainTimeout = std::chrono::seconds(2);      // reading what a refused body still sends
constexpr size_t kMaxConnections = 256;  // HTTP and WebSocket together

HttpRequest to_plain(http::request<http::string_body>& request) {
  HttpRequest out;
  out.method = std::string(request.method_string());
  out.target = std::string(request.target());
  for (const auto& field : request) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    out.headers[name] = std::string(field.value());
  }
  out.body = std::move(request.body());
  return out;
}

http::response<http::string_body> to_beast(HttpResponse&& answer, unsigned version, bool keep_alive, bool head) {
  http::response<http::string_body> response{static_cast<http::status>(answer.status), version};
  response.set(http::field::server, "circuit serve");
  response.set(http::field::content_type, answer.content_type);
  response.set(http::field::cache_control, "no-store");
  for (auto& [name, value] : answer.headers) response.set(name, value);
  response.keep_alive(keep_alive);
  response.body() = std::move(answer.body);
  response.prepare_payload();
  if (head) response.body().clear();  // HEAD: the length of what GET would send, no body
  return response;
}

}  // namespace

struct HttpServer::Impl {
  std::size_t connections = 0;  // open HTTP and WebSocket connections (I/O thread only); outlives `io`
  ApiRoutes& routes;
  SessionState& session;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};

  Impl(ApiRoutes& r, SessionState& s) : routes(r), session(s) {}
  void accept();
};

namespace {

// One HTTP connection: requests one after another (keep-alive), until the client closes, a
// request is malformed or too large, or it upgrades to the event stream.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket&& socket, ApiRoutes& routes, SessionState& session, std::size_t& connections)
      : stream_(std::move(socket)), routes_(routes), session_(session), connections_(connections) {
    ++connections_;
  }
  ~HttpSession() { --connections_; }

  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxBodyBytes);
    parser_->header_limit(kMaxHeaderBytes);
    stream_.expires_after(kRequestTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code error, size_t) { self->on_read(error); });
  }

 private:
  void on_read(beast::error_code error) {
    if (error == http::error::end_of_stream) {
      stream_.socket().shutdown(tcp::socket::shutdown_send, error);
      return;
    }
    if (error == http::error::body_limit) return refuse(413, "request body over 1 MiB", true);
    if (error == http::error::header_limit) return refuse(431, "request header over 16 KiB", false);
    if (error && error.category() == http::make_error_code(http::error::bad_target).category())
      return refuse(400, "malformed HTTP request (" + error.message() + ")", false);
    if (error) return;  // closed, reset or timed out: nothing to answer
    auto request = parser_->release();
    const std::string target(request.target());
    if (beast::websocket::is_upgrade(request) && target.substr(0, target.find('?')) == "/api/events") {
      HttpRequest plain;
      plain.target = target;
      if (auto auth = request.find(http::field::authorization); auth != request.end())
        plain.headers["authorization"] = std::string(auth->value());
      if (routes_.admits(plain)) {
        std::make_shared<EventStream>(std::move(stream_), routes_, session_, connections_)->start(std::move(request));
        return;
      }
    }
    const bool head = request.method() == http::verb::head;
    HttpRequest plain = to_plain(request);
    if (head) plain.method = "GET";
    write(to_beast(routes_.handle(plain), request.version(), request.keep_alive(), head));
  }

  void refuse(int status, const std::string& why, bool drain) {
    drain_ = drain;
    write(to_beast(error_response(status, why), 11, false, false));
  }

  void write(http::response<http::string_body>&& response) {
    auto message = std::make_shared<http::response<http::string_body>>(std::move(response));
    stream_.expires_after(kRequestTimeout);
    http::async_write(stream_, *message, [self = shared_from_this(), message](beast::error_code error, size_t) {
      if (error) return;
      if (!message->keep_alive()) return self->finish();
      self->read();
    });
  }

  // Closes after the answer. A client still sending a refused body would see a reset, not the
  // answer, if the socket closed under it: so what it sends is read and dropped, for a while.
  void finish() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
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
  ApiRoutes& routes_;
  SessionState& session_;
  std::size_t& connections_;
  bool drain_ = false;
  std::vector<char> drain_buffer_;
};

}  // namespace

void HttpServer::Impl::accept() {
  acceptor.async_accept(asio::make_strand(io), [this](beast::error_code error, tcp::socket socket) {
    if (error == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!error) {
      if (connections >= kMaxConnections) {
        beast::error_code ignored;
        socket.close(ignored);  // past the bound: refuse at once rather than queue
      } else {
        std::make_shared<HttpSession>(std::move(socket), routes, session, connections)->read();
      }
    }
    accept();
  });
}

HttpServer::HttpServer(ApiRoutes& routes, SessionState& session, const std::string& host, unsigned short port)
    : impl_(std::make_unique<Impl>(routes, session)) {
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
