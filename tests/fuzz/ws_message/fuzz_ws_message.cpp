// Fuzz target for what a client sends on the event stream (GET /api/events): each input is one
// WebSocket text message, up to the server's 64 KiB message limit, answered by
// answer_client_message exactly as EventStream::on_read answers it. It must never throw, and
// must answer `{"type":"pong"}` to a ping object and nothing to anything else.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "server/event_stream.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > circuit::server::kMaxClientMessageBytes) return 0;  // Beast closes the stream first
  const std::string_view message(reinterpret_cast<const char*>(data), size);
  const auto answer = circuit::server::answer_client_message(message);
  const auto parsed = nlohmann::json::parse(message, nullptr, /*allow_exceptions=*/false);
  const bool ping = parsed.is_object() && parsed.contains("type") && parsed["type"] == "ping";
  if (answer.has_value() != ping) std::abort();
  if (answer && *answer != R"({"type":"pong"})") std::abort();
  return 0;
}
