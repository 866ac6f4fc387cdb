// ClientLimits: each client's fair share of a server, so that one client (one remote address)
// cannot lock the others out: a cap on the connections and on the WebSockets it holds open,
// well under the server's own cap, and a throttle on its token guesses (after 10 wrong tokens
// in a second it waits, 1 s, then 2 s, 4 s, ... up to 60 s). Thread-safe; the HTTP server asks
// it on every accept, upgrade and token check. Part of the server layer (server/).
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

namespace circuit::server {

struct ClientLimitsConfig {
  std::size_t max_connections = 256;            // every client together, HTTP and WebSocket
  std::size_t max_connections_per_client = 32;  // one address, HTTP and WebSocket
  std::size_t max_websockets_per_client = 16;   // one address's event streams
  int token_failures_per_second = 10;           // wrong tokens tolerated within one second
  std::chrono::seconds first_block{1};          // the wait after the first burst of them
  std::chrono::seconds max_block{60};           // the wait doubles up to this
  std::chrono::seconds forget_after{60};        // a client quiet this long starts afresh
};

class ClientLimits;

// One open connection's share of its client's limits, given back when destroyed. Move-only;
// an empty slot (false) is a connection refused.
class ClientSlot {
 public:
  ClientSlot() = default;
  ClientSlot(ClientSlot&& other) noexcept;
  ClientSlot& operator=(ClientSlot&& other) noexcept;
  ~ClientSlot();

  explicit operator bool() const { return limits_ != nullptr; }
  const std::string& client() const { return client_; }
  // Counts this connection as one of its client's WebSockets from now on; false, and nothing
  // changed, when the client already holds its maximum.
  bool become_websocket();

 private:
  friend class ClientLimits;
  ClientSlot(ClientLimits* limits, std::string client) : limits_(limits), client_(std::move(client)) {}
  void release();

  ClientLimits* limits_ = nullptr;
  std::string client_;
  bool websocket_ = false;
};

class ClientLimits {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ClientLimits(ClientLimitsConfig config = {}) : config_(config) {}
  ClientLimits(const ClientLimits&) = delete;
  ClientLimits& operator=(const ClientLimits&) = delete;

  const ClientLimitsConfig& config() const { return config_; }

  // A slot for a new connection from `client` (its address); an empty slot when the server or
  // that client already holds its maximum. Every slot must be destroyed before the limits.
  ClientSlot admit(const std::string& client);

  // Seconds `client` must wait before its token is checked again (0: it may try now).
  int token_wait_seconds(const std::string& client, Clock::time_point now = Clock::now());
  // A request from `client` with a wrong or missing token. The `token_failures_per_second`-th
  // within a second blocks the client's next attempts for the current back-off.
  void token_failed(const std::string& client, Clock::time_point now = Clock::now());
  // A request with the right token: the client's back-off is forgotten.
  void token_passed(const std::string& client);

  std::size_t connections() const;
  std::size_t connections_of(const std::string& client) const;
  std::size_t websockets_of(const std::string& client) const;

 private:
  friend class ClientSlot;
  bool add_websocket(const std::string& client);
  void release(const std::string& client, bool websocket);

  struct Counts {
    std::size_t connections = 0;
    std::size_t websockets = 0;
  };
  struct Throttle {
    Clock::time_point window_start;   // of the current one-second window
    int failures = 0;                 // in it
    Clock::time_point last_failure;
    Clock::time_point blocked_until;
    int blocks = 0;                   // in a row: the back-off's exponent
  };

  ClientLimitsConfig config_;
  mutable std::mutex mutex_;
  std::size_t total_ = 0;
  std::map<std::string, Counts> counts_;       // clients with an open connection
  std::map<std::string, Throttle> throttles_;  // clients that sent a wrong token lately
};

}  // namespace circuit::server
