// AccessToken: the secret that a server bound to an address other than the loopback asks of
// every request (`Authorization: Bearer T` or `?token=T`), so that nobody else on the network
// can read the workspace or run models. Part of the server layer (server/).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "server/http_message.h"

namespace circuit::server {

inline constexpr size_t kMinTokenBits = 128;

// 32 hex digits (128 bits) from the kernel's CSPRNG (getrandom). Throws std::runtime_error
// when it cannot be read.
std::string generate_access_token();

// Throws std::invalid_argument (one line, naming --token) for a token a guesser could find: not
// made of base64url characters, under 128 bits at 4 bits a hex digit or 6 bits a base64url
// character, or of fewer than 8 distinct characters.
void check_token_strength(const std::string& token);

// Whether `host` is a loopback address ("127.0.0.1", "::1", "localhost", 127.x.y.z): the only
// addresses served without a token.
bool is_loopback_host(const std::string& host);

class AccessToken {
 public:
  AccessToken() = default;  // no token: every request is let in (loopback only)
  explicit AccessToken(std::string token) : token_(std::move(token)) {}

  bool required() const { return !token_.empty(); }
  const std::string& value() const { return token_; }
  // True when no token is required or the request carries it (header or query), compared in
  // a time that depends on the token's length only.
  bool admits(const HttpRequest& request) const;

 private:
  std::string token_;
};

// The value of one query parameter of a target ("/x?a=1&token=t" -> "t"), percent-decoded;
// empty when absent or badly encoded.
std::string query_parameter(std::string_view target, std::string_view name);

// Percent-decoding of a URL part; false on a bad escape.
bool percent_decode(std::string_view text, std::string& out);

}  // namespace circuit::server
