// Each client's share: connection and WebSocket caps per address under the server's cap,
// slots given back when connections end, and the token throttle's window and back-off.
#include "server/client_limits.h"

#include <gtest/gtest.h>

#include <vector>

namespace circuit::server {
namespace {

using namespace std::chrono_literals;

TEST(ClientLimits, OneClientCannotTakeEveryConnection) {
  ClientLimits limits({.max_connections = 10, .max_connections_per_client = 4, .max_websockets_per_client = 2});
  std::vector<ClientSlot> held;
  for (int i = 0; i < 6; ++i)
    if (auto slot = limits.admit("127.0.0.2")) held.push_back(std::move(slot));
  EXPECT_EQ(held.size(), 4u);
  EXPECT_TRUE(limits.admit("127.0.0.1"));  // another client still gets in
  held.pop_back();                          // a connection ends: its slot comes back
  EXPECT_EQ(limits.connections_of("127.0.0.2"), 3u);
  EXPECT_TRUE(limits.admit("127.0.0.2"));
}

TEST(ClientLimits, TheServerCapHoldsForEveryone) {
  ClientLimits limits({.max_connections = 3, .max_connections_per_client = 2, .max_websockets_per_client = 1});
  auto a = limits.admit("a"), b = limits.admit("a"), c = limits.admit("b");
  EXPECT_TRUE(a && b && c);
  EXPECT_FALSE(limits.admit("c"));
  EXPECT_EQ(limits.connections(), 3u);
}

TEST(ClientLimits, WebSocketsHaveTheirOwnCap) {
  ClientLimits limits({.max_connections = 10, .max_connections_per_client = 5, .max_websockets_per_client = 2});
  auto a = limits.admit("x"), b = limits.admit("x"), c = limits.admit("x");
  EXPECT_TRUE(a.become_websocket());
  EXPECT_TRUE(b.become_websocket());
  EXPECT_FALSE(c.become_websocket());
  EXPECT_EQ(limits.websockets_of("x"), 2u);
  { ClientSlot gone = std::move(a); }  // a stream ends
  EXPECT_EQ(limits.websockets_of("x"), 1u);
  EXPECT_TRUE(c.become_websocket());
  EXPECT_FALSE(ClientSlot().become_websocket());
}

TEST(ClientLimits, TheEleventhWrongTokenInASecondWaits) {
  ClientLimits limits;
  const auto t0 = ClientLimits::Clock::now();
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(limits.token_wait_seconds("a", t0 + i * 10ms), 0) << "attempt " << i + 1;
    limits.token_failed("a", t0 + i * 10ms);
  }
  EXPECT_EQ(limits.token_wait_seconds("a", t0 + 100ms), 1);  // the 11th
  EXPECT_EQ(limits.token_wait_seconds("b", t0 + 100ms), 0);  // another address is not held up
  EXPECT_EQ(limits.token_wait_seconds("a", t0 + 1100ms), 0);
}

TEST(ClientLimits, SlowGuessesAreNotThrottled) {
  ClientLimits limits;
  const auto t0 = ClientLimits::Clock::now();
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(limits.token_wait_seconds("a", t0 + i * 200ms), 0) << "attempt " << i + 1;
    limits.token_failed("a", t0 + i * 200ms);  // five a second
  }
}

TEST(ClientLimits, TheWaitDoublesUpToAMinuteAndIsForgotten) {
  ClientLimits limits;
  auto now = ClientLimits::Clock::now();
  std::vector<int> waits;
  for (int burst = 0; burst < 9; ++burst) {
    for (int i = 0; i < 10; ++i) limits.token_failed("a", now);
    waits.push_back(limits.token_wait_seconds("a", now));
    now += std::chrono::seconds(waits.back());
  }
  EXPECT_EQ(waits, (std::vector<int>{1, 2, 4, 8, 16, 32, 60, 60, 60}));
  now += 61s;  // quiet for a minute
  for (int i = 0; i < 10; ++i) limits.token_failed("a", now);
  EXPECT_EQ(limits.token_wait_seconds("a", now), 1);
  limits.token_passed("a");  // the right token
  EXPECT_EQ(limits.token_wait_seconds("a", now), 0);
}

}  // namespace
}  // namespace circuit::server
