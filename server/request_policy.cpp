#include "server/request_policy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace circuit::server {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// A header value for an error message: printable and short.
std::string shown(std::string_view value) {
  std::string out;
  for (char c : value.substr(0, 100)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u >= 0x7f) ? '?' : c;
  }
  return "'" + out + (value.size() > 100 ? "...'" : "'");
}

struct Authority {
  std::string host;  // lower-case; an IPv6 address in brackets
  unsigned port = 0;
  std::string text() const { return host + ":" + std::to_string(port); }
};

bool is_ipv4(const std::string& host) {
  in_addr address;
  return ::inet_pton(AF_INET, host.c_str(), &address) == 1;
}

bool is_bracketed_ipv6(const std::string& host) {
  if (host.size() < 3 || host.front() != '[' || host.back() != ']') return false;
  in6_addr address;
  return ::inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &address) == 1;
}

// "Host:port" as a Host header, an Origin's authority or an --allow-host name spells it; the
// port is `default_port` when absent. nullopt for anything that is not a host name, an IPv4
// address or a bracketed IPv6 address, with an optional port 1..65535.
std::optional<Authority> parse_authority(std::string_view text, unsigned default_port) {
  Authority out;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = lower(text.substr(0, close + 1));
    if (!is_bracketed_ipv6(out.host)) return std::nullopt;
    text.remove_prefix(close + 1);
    if (!text.empty()) {
      if (text.front() != ':') return std::nullopt;
      port = text.substr(1);
      if (port.empty()) return std::nullopt;
    }
  } else {
    const size_t colon = text.find(':');
    out.host = lower(text.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = text.substr(colon + 1);
      if (port.empty()) return std::nullopt;
    }
    if (out.host.empty() || out.host.size() > 253) return std::nullopt;
    for (char c : out.host)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') return std::nullopt;
  }
  out.port = default_port;
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
    out.port = static_cast<unsigned>(std::stoul(std::string(port)));
    if (out.port == 0 || out.port > 65535) return std::nullopt;
  }
  return out;
}

bool is_loopback_address(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.starts_with("127.");
}

}  // namespace

RequestPolicy::RequestPolicy(const std::string& bound_host, unsigned short port,
                             const std::vector<std::string>& allowed_names)
    : port_(port) {
  auto add = [&](const std::string& authority) {
    if (std::find(allowed_.begin(), allowed_.end(), authority) == allowed_.end()) allowed_.push_back(authority);
  };
  const std::string p = ":" + std::to_string(port);
  std::string bound = lower(bound_host);
  if (bound.find(':') != std::string::npos && bound.front() != '[') bound = "[" + bound + "]";
  if (bound == "0.0.0.0" || bound == "[::]" || is_loopback_address(bound)) {
    // The loopback names a browser on this machine uses for the printed address.
    add("127.0.0.1" + p);
    add("localhost" + p);
    add("[::1]" + p);
  }
  any_ip_literal_ = bound == "0.0.0.0" || bound == "[::]";
  if (!any_ip_literal_) add(bound + p);
  for (const auto& name : allowed_names) {
    auto authority = parse_authority(name, port);
    if (!authority) throw std::invalid_argument("--allow-host " + shown(name) + ": not a host name or address");
    add(authority->text());
  }
}

bool RequestPolicy::host_allowed(std::string_view host) const {
  auto authority = parse_authority(trim(host), 80);
  if (!authority) return false;
  if (std::find(allowed_.begin(), allowed_.end(), authority->text()) != allowed_.end()) return true;
  // Bound to every address: any address of the machine, spelled as an address (a DNS name
  // could be rebound to it by another site), on our port.
  return any_ip_literal_ && authority->port == port_ &&
         (is_ipv4(authority->host) || is_bracketed_ipv6(authority->host));
}

bool is_websocket_upgrade(const HttpRequest& request) {
  const std::string* upgrade = request.header("upgrade");
  return upgrade && lower(*upgrade).find("websocket") != std::string::npos;
}

std::optional<Refusal> RequestPolicy::check(const HttpRequest& request, bool has_body) const {
  const std::string* host = request.header("host");
  if (!host) return Refusal{403, "this server answers only requests with a Host header naming it"};
  if (!host_allowed(*host))
    return Refusal{403, "Host " + shown(*host) + ": not this server's address (it answers " + allowed_hosts().front() +
                            " and the names given with --allow-host)"};

  const bool safe_method = request.method == "GET" || request.method == "HEAD" || request.method == "OPTIONS";
  if (const std::string* origin = request.header("origin"); origin && (!safe_method || is_websocket_upgrade(request))) {
    // The server's own pages send their own origin; a page of any other site (or a sandboxed
    // one, "null") may not change the workspace or open the event stream.
    std::string_view value = trim(*origin);
    std::optional<Authority> from;
    if (value.starts_with("http://")) from = parse_authority(value.substr(7), 80);
    else if (value.starts_with("https://")) from = parse_authority(value.substr(8), 443);
    const auto own = parse_authority(trim(*host), 80);
    const bool same = from && own && (from->text() == own->text() ||
                                      std::find(allowed_.begin(), allowed_.end(), from->text()) != allowed_.end());
    if (!same)
      return Refusal{403, "Origin " + shown(*origin) + ": " +
                              (is_websocket_upgrade(request) ? std::string("the event stream") : request.method + " requests") +
                              " are answered only for this server's own pages"};
  }

  if (has_body) {
    const std::string* type = request.header("content-type");
    const std::string media = type ? lower(trim(std::string_view(*type).substr(0, type->find(';')))) : "";
    if (media != "application/json")
      return Refusal{415, "a request body must be JSON, sent with Content-Type: application/json (got " +
                              (type ? shown(*type) : std::string("none")) + ")"};
  }
  return std::nullopt;
}

}  // namespace circuit::server
