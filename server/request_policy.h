// RequestPolicy: which requests a server of this project answers at all, decided from the
// request's header alone (before its body is read): the Host must be the address served (or a
// name allowed with --allow-host), so a DNS-rebound page cannot reach the server under its own
// name; a state-changing request or a WebSocket upgrade that carries an Origin must come from the
// server's own origin, so another site's page cannot drive it; a body must be declared
// `application/json`, so no HTML form can send one. Every server of the project (`circuit
// serve` today; shared sessions, a model server, a registry later) applies this one policy.
// Part of the server layer (server/).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/http_message.h"

namespace circuit::server {

// Why a request is refused: the HTTP status (403, 415) and one line naming the reason.
struct Refusal {
  int status = 403;
  std::string message;
};

class RequestPolicy {
 public:
  // `bound_host`: the address listened on, as --host gives it ("127.0.0.1", "0.0.0.0", "::1",
  // "localhost"); `port`: the port bound; `allowed_names`: the --allow-host names ("box.lan", or
  // "box.lan:443" when clients reach the server on another port, through a proxy). Throws
  // std::invalid_argument naming a name that is not a host name or address.
  RequestPolicy(const std::string& bound_host, unsigned short port, const std::vector<std::string>& allowed_names);

  // The refusal of a request whose header has been read (method, target, lower-case headers;
  // `has_body`: it declares a body), or nullopt when it may go on. In order: Host (403), Origin
  // (403, state-changing methods and WebSocket upgrades only), Content-Type of a body (415).
  std::optional<Refusal> check(const HttpRequest& request, bool has_body) const;

  // Whether a Host header value names this server ("127.0.0.1:8765"; case-insensitive).
  bool host_allowed(std::string_view host) const;

  // The Host values answered, "host:port", lower-case, for the docs and error messages.
  const std::vector<std::string>& allowed_hosts() const { return allowed_; }

 private:
  std::vector<std::string> allowed_;  // "host:port"
  bool any_ip_literal_ = false;       // bound to 0.0.0.0 or ::: any address of the machine
  unsigned short port_ = 0;
};

// Whether a request asks for a WebSocket (Connection: upgrade and Upgrade: websocket).
bool is_websocket_upgrade(const HttpRequest& request);

}  // namespace circuit::server
