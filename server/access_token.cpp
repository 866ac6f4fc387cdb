#include "server/access_token.h"

#include <random>

namespace circuit::server {
namespace {

bool same_secret(std::string_view a, std::string_view b) {
  // Every byte is compared whatever the first difference, so the time taken tells nothing.
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % (b.empty() ? 1 : b.size())]);
  return diff == 0 && !b.empty();
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string generate_access_token() {
  std::random_device random;  // /dev/urandom on Linux
  const char* digits = "0123456789abcdef";
  std::string token;
  for (int i = 0; i < 4; ++i) {  // 4 x 32 random bits
    unsigned value = random();
    for (int j = 0; j < 4; ++j, value >>= 8) {
      token += digits[(value >> 4) & 0xF];
      token += digits[value & 0xF];
    }
  }
  return token;
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
