// The request policy: only the served address as Host (DNS rebinding), only the server's own
// origin for state-changing requests and WebSocket upgrades (another site's page), only JSON
// bodies declared as such (HTML forms); reads from anywhere stay allowed.
#include "server/request_policy.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace circuit::server {
namespace {

HttpRequest request(const std::string& method, const std::string& host, const std::string& origin = "",
                    const std::string& content_type = "") {
  HttpRequest r;
  r.method = method;
  r.target = "/api/runs";
  if (!host.empty()) r.headers["host"] = host;
  if (!origin.empty()) r.headers["origin"] = origin;
  if (!content_type.empty()) r.headers["content-type"] = content_type;
  return r;
}

int status_of(const RequestPolicy& policy, const HttpRequest& r, bool has_body = false) {
  auto refusal = policy.check(r, has_body);
  return refusal ? refusal->status : 0;
}

TEST(RequestPolicy, LoopbackAnswersItsOwnNamesOnly) {
  RequestPolicy policy("127.0.0.1", 8765, {});
  EXPECT_TRUE(policy.host_allowed("127.0.0.1:8765"));
  EXPECT_TRUE(policy.host_allowed("localhost:8765"));
  EXPECT_TRUE(policy.host_allowed("LOCALHOST:8765"));
  EXPECT_TRUE(policy.host_allowed("[::1]:8765"));
  EXPECT_FALSE(policy.host_allowed("evil.example:8765"));  // a name rebound to 127.0.0.1
  EXPECT_FALSE(policy.host_allowed("evil.example"));
  EXPECT_FALSE(policy.host_allowed("127.0.0.1:8766"));     // another port
  EXPECT_FALSE(policy.host_allowed("127.0.0.1"));          // port 80
  EXPECT_FALSE(policy.host_allowed("192.168.1.4:8765"));   // not the address served
  EXPECT_FALSE(policy.host_allowed("localhost.:8765"));
  EXPECT_FALSE(policy.host_allowed("127.0.0.1:8765 evil"));
  EXPECT_FALSE(policy.host_allowed("127.0.0.1:87650"));
  EXPECT_FALSE(policy.host_allowed(""));
  EXPECT_EQ(status_of(policy, request("GET", "evil.example:8765")), 403);
  EXPECT_EQ(status_of(policy, request("GET", "")), 403);  // no Host at all
  EXPECT_EQ(status_of(policy, request("GET", "127.0.0.1:8765")), 0);
}

TEST(RequestPolicy, AllowHostAddsNames) {
  RequestPolicy policy("127.0.0.1", 8765, {"box.lan", "proxy.example:443"});
  EXPECT_TRUE(policy.host_allowed("box.lan:8765"));
  EXPECT_TRUE(policy.host_allowed("proxy.example:443"));
  EXPECT_FALSE(policy.host_allowed("proxy.example:8765"));
  EXPECT_FALSE(policy.host_allowed("sub.box.lan:8765"));
  EXPECT_THROW(RequestPolicy("127.0.0.1", 8765, {"bad name"}), std::invalid_argument);
  EXPECT_THROW(RequestPolicy("127.0.0.1", 8765, {"box.lan:0"}), std::invalid_argument);
  EXPECT_THROW(RequestPolicy("127.0.0.1", 8765, {"evil.example\r\nX: y"}), std::invalid_argument);
}

TEST(RequestPolicy, EveryAddressAnswersAddressesButNoNames) {
  RequestPolicy policy("0.0.0.0", 8765, {});
  EXPECT_TRUE(policy.host_allowed("192.168.1.4:8765"));
  EXPECT_TRUE(policy.host_allowed("127.0.0.1:8765"));
  EXPECT_TRUE(policy.host_allowed("localhost:8765"));
  EXPECT_TRUE(policy.host_allowed("[fe80::1]:8765"));
  EXPECT_FALSE(policy.host_allowed("192.168.1.4:9999"));
  EXPECT_FALSE(policy.host_allowed("evil.example:8765"));
  RequestPolicy one("192.168.1.4", 8765, {});
  EXPECT_TRUE(one.host_allowed("192.168.1.4:8765"));
  EXPECT_FALSE(one.host_allowed("10.0.0.1:8765"));
  RequestPolicy v6("::1", 8765, {});
  EXPECT_TRUE(v6.host_allowed("[::1]:8765"));
  EXPECT_TRUE(v6.host_allowed("localhost:8765"));
}

TEST(RequestPolicy, ForeignOriginsCannotChangeAnything) {
  RequestPolicy policy("127.0.0.1", 8765, {});
  const std::string host = "127.0.0.1:8765";
  for (const std::string method : {"POST", "PUT", "DELETE", "PATCH"}) {
    EXPECT_EQ(status_of(policy, request(method, host, "http://evil.example")), 403) << method;
    EXPECT_EQ(status_of(policy, request(method, host, "null")), 403) << method;
    EXPECT_EQ(status_of(policy, request(method, host, "http://127.0.0.1:8766")), 403) << method;
    EXPECT_EQ(status_of(policy, request(method, host, "http://127.0.0.1:8765.evil.example")), 403) << method;
    EXPECT_EQ(status_of(policy, request(method, host, "http://127.0.0.1:8765")), 0) << method;
    EXPECT_EQ(status_of(policy, request(method, host, "http://localhost:8765")), 0) << method;
    EXPECT_EQ(status_of(policy, request(method, host)), 0) << method;  // no Origin: not a browser page
  }
  // A read cannot be taken by another site without CORS, which this server never grants.
  EXPECT_EQ(status_of(policy, request("GET", host, "http://evil.example")), 0);
}

TEST(RequestPolicy, ForeignOriginsCannotOpenTheEventStream) {
  RequestPolicy policy("127.0.0.1", 8765, {});
  HttpRequest upgrade = request("GET", "127.0.0.1:8765", "http://evil.example");
  upgrade.headers["upgrade"] = "websocket";
  upgrade.headers["connection"] = "Upgrade";
  EXPECT_TRUE(is_websocket_upgrade(upgrade));
  EXPECT_EQ(status_of(policy, upgrade), 403);
  upgrade.headers["origin"] = "http://127.0.0.1:8765";
  EXPECT_EQ(status_of(policy, upgrade), 0);
}

TEST(RequestPolicy, OriginMustMatchTheHostOnEveryAddress) {
  // Bound to every address, a page on another machine's address is still another site.
  RequestPolicy policy("0.0.0.0", 8765, {});
  EXPECT_EQ(status_of(policy, request("POST", "192.168.1.4:8765", "http://192.168.1.4:8765")), 0);
  EXPECT_EQ(status_of(policy, request("POST", "192.168.1.4:8765", "http://10.9.9.9:8765")), 403);
}

TEST(RequestPolicy, BodiesMustBeDeclaredJson) {
  RequestPolicy policy("127.0.0.1", 8765, {});
  const std::string host = "127.0.0.1:8765";
  EXPECT_EQ(status_of(policy, request("POST", host, "", "application/json"), true), 0);
  EXPECT_EQ(status_of(policy, request("POST", host, "", "Application/JSON; charset=utf-8"), true), 0);
  EXPECT_EQ(status_of(policy, request("POST", host, "", "text/plain"), true), 415);
  EXPECT_EQ(status_of(policy, request("POST", host, "", "application/x-www-form-urlencoded"), true), 415);
  EXPECT_EQ(status_of(policy, request("POST", host, "", "multipart/form-data; boundary=x"), true), 415);
  EXPECT_EQ(status_of(policy, request("PUT", host), true), 415);  // none
  EXPECT_EQ(status_of(policy, request("POST", host), false), 0);  // no body: nothing to declare
}

TEST(RequestPolicy, RefusalsAreOneLineNamingTheReason) {
  RequestPolicy policy("127.0.0.1", 8765, {});
  auto host = policy.check(request("GET", "evil.example\r\nX: y"), false);
  ASSERT_TRUE(host);
  EXPECT_EQ(host->message.find_first_of("\r\n"), std::string::npos);
  EXPECT_NE(host->message.find("Host"), std::string::npos);
  auto origin = policy.check(request("POST", "127.0.0.1:8765", "http://evil.example"), false);
  ASSERT_TRUE(origin);
  EXPECT_NE(origin->message.find("http://evil.example"), std::string::npos);
}

}  // namespace
}  // namespace circuit::server
