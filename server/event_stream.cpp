#include "server/event_stream.h"

#include <boost/asio/post.hpp>

namespace circuit::server {
namespace beast = boost::beast;
namespace websocket = beast::websocket;

std::optional<std::string> answer_client_message(std::string_view message) {
  const auto parsed = nlohmann::json::parse(message, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return std::nullopt;
  // A "type" that is not a string is no ping (json::value would throw on it).
  const auto type = parsed.find("type");
  if (type == parsed.end() || !type->is_string() || type->get_ref<const std::string&>() != "ping") return std::nullopt;
  return std::string(R"({"type":"pong"})");
}

EventStream::EventStream(beast::tcp_stream&& stream, ApiRoutes& routes, SessionState& session, ClientSlot slot)
    : ws_(std::move(stream)), routes_(routes), session_(session), slot_(std::move(slot)) {}

void EventStream::start(beast::http::request<beast::http::string_body> request) {
  // The WebSocket keeps its own timeouts (and pings an idle client); the HTTP read timeout goes.
  beast::get_lowest_layer(ws_).expires_never();
  websocket::stream_base::timeout timeout{};
  timeout.handshake_timeout = kWebSocketHandshakeTimeout;
  timeout.idle_timeout = kWebSocketIdleTimeout;
  timeout.keep_alive_pings = true;
  ws_.set_option(timeout);
  ws_.read_message_max(kMaxClientMessageBytes);
  upgrade_ = std::move(request);  // kept until the handshake's answer is written
  ws_.async_accept(upgrade_, [self = shared_from_this()](beast::error_code error) { self->on_accept(error); });
}

void EventStream::on_accept(beast::error_code error) {
  if (error) return;
  // Subscribed before the hello is taken, so no change falls between the two; the publishing
  // thread (a run's worker) only queues and posts a wake-up here.
  std::weak_ptr<EventStream> weak = weak_from_this();
  auto executor = ws_.get_executor();
  subscriber_ = session_.subscribe(kEventQueueCapacity, [weak, executor] {
    boost::asio::post(executor, [weak] {
      if (auto self = weak.lock()) self->write_next();
    });
  });
  nlohmann::json hello = {{"type", "hello"}, {"session", routes_.session_json()}};
  replies_.push_back(std::make_shared<const std::string>(hello.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  write_next();
  read();
}

void EventStream::read() {
  ws_.async_read(incoming_, [self = shared_from_this()](beast::error_code error, size_t) { self->on_read(error); });
}

void EventStream::on_read(beast::error_code error) {
  if (error) {  // closed, gone, too large a message or timed out: the stream ends, nothing else
    close();
    return;
  }
  const auto answer = answer_client_message(beast::buffers_to_string(incoming_.data()));
  incoming_.consume(incoming_.size());
  if (answer) {
    if (replies_.size() < kEventQueueCapacity) replies_.push_back(std::make_shared<const std::string>(*answer));
    write_next();
  }
  read();
}

void EventStream::write_next() {
  if (closed_ || writing_) return;
  if (!replies_.empty()) {
    writing_ = std::move(replies_.front());
    replies_.pop_front();
  } else if (subscriber_) {
    writing_ = subscriber_->pop();
  }
  if (!writing_) return;
  ws_.text(true);
  ws_.async_write(boost::asio::buffer(*writing_), [self = shared_from_this()](beast::error_code error, size_t) {
    self->writing_.reset();
    if (error) {
      self->close();
      return;
    }
    self->write_next();
  });
}

void EventStream::close() {
  closed_ = true;
  subscriber_.reset();  // the session forgets this client
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
}

}  // namespace circuit::server
