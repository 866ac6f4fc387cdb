// The access token: generated tokens, the loopback rule, and requests let in only with the
// token in the Authorization header or the query.
#include "server/access_token.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace circuit::server {
namespace {

using namespace std::string_literals;

HttpRequest request(const std::string& target, const std::string& authorization = "") {
  HttpRequest r;
  r.method = "GET";
  r.target = target;
  if (!authorization.empty()) r.headers["authorization"] = authorization;
  return r;
}

TEST(AccessToken, GeneratedTokensAreLongAndDifferent) {
  const std::string a = generate_access_token(), b = generate_access_token();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);
}

TEST(AccessToken, ShortOrPoorTokensAreRefused) {
  auto refused = [](const std::string& token) {
    try {
      check_token_strength(token);
      return false;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind("--token: ", 0), 0u) << e.what();
      return true;
    }
  };
  EXPECT_TRUE(refused("ab"));
  EXPECT_TRUE(refused("letmein"));
  EXPECT_TRUE(refused(std::string(31, 'a') + "b"));           // 31 + 1 hex digits: 128 bits, but two kinds
  EXPECT_TRUE(refused("0123456789abcdef0123456789abcde"));     // 31 hex digits: 124 bits
  EXPECT_TRUE(refused("Zq3-x_Y7pLm2Kd9Rt4Wv8N"s.substr(0, 21)));  // 21 base64url: 126 bits
  EXPECT_TRUE(refused("Zq3-x_Y7pLm2Kd9Rt4Wv8N+"));            // '+' would need escaping in a URL
  EXPECT_TRUE(refused("with space 0123456789abcdef0123"));
  EXPECT_FALSE(refused("0123456789abcdef0123456789abcdef"));   // 32 hex digits: 128 bits
  EXPECT_FALSE(refused("Zq3-x_Y7pLm2Kd9Rt4Wv8N"));             // 22 base64url: 132 bits
  EXPECT_FALSE(refused(generate_access_token()));
}

TEST(AccessToken, OnlyLoopbackHostsGoWithoutOne) {
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(is_loopback_host("192.168.1.4"));
  EXPECT_FALSE(is_loopback_host("::"));
}

TEST(AccessToken, NoTokenAdmitsEveryone) {
  EXPECT_TRUE(AccessToken().admits(request("/api/session")));
}

TEST(AccessToken, ATokenMustComeWithTheRequest) {
  AccessToken token("s3cret");
  EXPECT_FALSE(token.admits(request("/api/session")));
  EXPECT_FALSE(token.admits(request("/api/session?token=wrong")));
  EXPECT_FALSE(token.admits(request("/api/session?token=s3cre")));
  EXPECT_FALSE(token.admits(request("/api/session?token=s3cretx")));
  EXPECT_FALSE(token.admits(request("/api/session?token=")));
  EXPECT_FALSE(token.admits(request("/api/session", "Bearer wrong")));
  EXPECT_FALSE(token.admits(request("/api/session", "s3cret")));
  EXPECT_TRUE(token.admits(request("/api/session?token=s3cret")));
  EXPECT_TRUE(token.admits(request("/api/runs?x=1&token=s3cret&y=2")));
  EXPECT_TRUE(token.admits(request("/api/session", "Bearer s3cret")));
}

TEST(QueryParameter, FindsAndDecodesValues) {
  EXPECT_EQ(query_parameter("/x?rows=0..2", "rows"), "0..2");
  EXPECT_EQ(query_parameter("/x?a=1&name=a%2Fb", "name"), "a/b");
  EXPECT_EQ(query_parameter("/x?a=1", "rows"), "");
  EXPECT_EQ(query_parameter("/x", "rows"), "");
  EXPECT_EQ(query_parameter("/x?rows=%zz", "rows"), "");  // a bad escape is no value
}

TEST(PercentDecode, DecodesAndRefusesBadEscapes) {
  std::string out;
  EXPECT_TRUE(percent_decode("%2e%2E/a%20b", out));
  EXPECT_EQ(out, "../a b");
  EXPECT_FALSE(percent_decode("a%2", out));
  EXPECT_FALSE(percent_decode("a%", out));
  EXPECT_FALSE(percent_decode("%g0", out));
  EXPECT_TRUE(percent_decode("%00", out));
  EXPECT_EQ(out, std::string(1, '\0'));
}

}  // namespace
}  // namespace circuit::server
