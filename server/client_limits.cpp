#include "server/client_limits.h"

#include <algorithm>

namespace circuit::server {

ClientSlot::ClientSlot(ClientSlot&& other) noexcept
    : limits_(other.limits_), client_(std::move(other.client_)), websocket_(other.websocket_) {
  other.limits_ = nullptr;
}

ClientSlot& ClientSlot::operator=(ClientSlot&& other) noexcept {
  if (this != &other) {
    release();
    limits_ = other.limits_;
    client_ = std::move(other.client_);
    websocket_ = other.websocket_;
    other.limits_ = nullptr;
  }
  return *this;
}

ClientSlot::~ClientSlot() { release(); }

void ClientSlot::release() {
  if (limits_) limits_->release(client_, websocket_);
  limits_ = nullptr;
}

bool ClientSlot::become_websocket() {
  if (!limits_) return false;
  if (websocket_) return true;
  websocket_ = limits_->add_websocket(client_);
  return websocket_;
}

ClientSlot ClientLimits::admit(const std::string& client) {
  std::lock_guard lock(mutex_);
  if (total_ >= config_.max_connections) return {};
  auto& counts = counts_[client];
  if (counts.connections >= config_.max_connections_per_client) return {};
  ++counts.connections;
  ++total_;
  return ClientSlot(this, client);
}

bool ClientLimits::add_websocket(const std::string& client) {
  std::lock_guard lock(mutex_);
  auto& counts = counts_[client];
  if (counts.websockets >= config_.max_websockets_per_client) return false;
  ++counts.websockets;
  return true;
}

void ClientLimits::release(const std::string& client, bool websocket) {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(client);
  if (it == counts_.end()) return;
  --total_;
  --it->second.connections;
  if (websocket) --it->second.websockets;
  if (it->second.connections == 0) counts_.erase(it);  // the map holds only clients connected now
}

int ClientLimits::token_wait_seconds(const std::string& client, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = throttles_.find(client);
  if (it == throttles_.end() || it->second.blocked_until <= now) return 0;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(it->second.blocked_until - now).count();
  return static_cast<int>((left + 999) / 1000);
}

void ClientLimits::token_failed(const std::string& client, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (throttles_.size() >= 4096) {  // forget clients long quiet, so many addresses cannot grow the map
    std::erase_if(throttles_, [&](const auto& entry) {
      return entry.second.blocked_until <= now && now - entry.second.last_failure > config_.forget_after;
    });
  }
  auto [it, added] = throttles_.try_emplace(client);
  Throttle& t = it->second;
  if (added) t.window_start = t.last_failure = now;
  if (now - t.last_failure > config_.forget_after) t.blocks = 0;
  if (now - t.window_start >= std::chrono::seconds(1)) {
    t.window_start = now;
    t.failures = 0;
  }
  t.last_failure = now;
  if (++t.failures < config_.token_failures_per_second) return;
  const auto block = std::min<std::chrono::seconds>(config_.first_block * (1LL << std::min(t.blocks, 20)), config_.max_block);
  t.blocked_until = now + block;
  ++t.blocks;
  t.failures = 0;
  t.window_start = now;
}

void ClientLimits::token_passed(const std::string& client) {
  std::lock_guard lock(mutex_);
  throttles_.erase(client);
}

std::size_t ClientLimits::connections() const {
  std::lock_guard lock(mutex_);
  return total_;
}

std::size_t ClientLimits::connections_of(const std::string& client) const {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(client);
  return it == counts_.end() ? 0 : it->second.connections;
}

std::size_t ClientLimits::websockets_of(const std::string& client) const {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(client);
  return it == counts_.end() ? 0 : it->second.websockets;
}

}  // namespace circuit::server
