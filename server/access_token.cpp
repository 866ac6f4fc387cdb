#include "server/access_token.h"

#include <sys/random.h>

#include <cerrno>
#include <set>
#include <stdexcept>

namespace circuit::server {
namespace {

// Whether `guess` is `secret`, in a time that depends on the secret's length only: every byte
// of the secret is compared whatever the first difference, so timing tells a guesser nothing.
bool same_secret(std::string_view guess, std::string_view secret) {
  unsigned char diff = guess.size() == secret.size() ? 0 : 1;
  for (size_t i = 0; i < secret.size(); ++i)
    diff |= static_cast<unsigned char>(secret[i] ^ (i < guess.size() ? guess[i] : 0));
  return diff == 0 && !secret.empty();
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string generate_access_token() {
  // getrandom(2): the kernel's CSPRNG (what OpenSSL and libsodium seed from), no new library.
  unsigned char bytes[16];  // 128 bits
  size_t got = 0;
  while (got < sizeof bytes) {
    const ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("cannot draw an access token from the system's random source");
    got += static_cast<size_t>(n);
  }
  const char* digits = "0123456789abcdef";
  std::string token;
  for (unsigned char b : bytes) {
    token += digits[b >> 4];
    token += digits[b & 0xF];
  }
  return token;
}

void check_token_strength(const std::string& token) {
  const bool hex = token.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
  if (token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != std::string::npos)
    throw std::invalid_argument("--token: may hold only letters, digits, '-' and '_' (base64url), so it travels in a URL as it is");
  const size_t bits = token.size() * (hex ? 4 : 6);
  const size_t distinct = std::set<char>(token.begin(), token.end()).size();
  if (bits < kMinTokenBits || distinct < 8)
    throw std::invalid_argument("--token: " + std::to_string(token.size()) + " characters" +
                                (distinct < 8 ? " of only " + std::to_string(distinct) + " kinds" : "") +
                                " is too easy to guess; it needs at least 128 bits (32 hex digits or 22 base64url "
                                "characters, 8 kinds or more): leave --token out and one is generated");
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.starts_with("127.");
}

bool percent_decode(std::string_view text, std::string& out) {
  out.clear();
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return false;
    const int hi = hex_value(text[i + 1]), lo = hex_value(text[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

std::string query_parameter(std::string_view target, std::string_view name) {
  const size_t question = target.find('?');
  if (question == std::string_view::npos) return {};
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      std::string value;
      if (eq == std::string_view::npos || !percent_decode(pair.substr(eq + 1), value)) return {};
      return value;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

bool AccessToken::admits(const HttpRequest& request) const {
  if (!required()) return true;
  if (const std::string* auth = request.header("authorization")) {
    constexpr std::string_view bearer = "Bearer ";
    if (auth->starts_with(bearer) && same_secret(std::string_view(*auth).substr(bearer.size()), token_)) return true;
  }
  return same_secret(query_parameter(request.target, "token"), token_);
}

}  // namespace circuit::server
