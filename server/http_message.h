// HttpRequest, HttpResponse and ApiError: the plain request and answer that the API routes work
// on, with no Beast in sight, so the routes are tested in-process and Beast stays in
// http_server.cpp and event_stream.cpp. Part of the server layer (server/).
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace circuit::server {

struct HttpRequest {
  std::string method;                         // "GET", "PUT", "POST", ...
  std::string target;                         // "/api/files/a.circuit?token=x", as sent (encoded)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  const std::string* header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? nullptr : &it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (X-Shape, ...)
  std::string body;
};

// A request the API refuses: the HTTP status and one line naming the place and the reason.
// The routes turn it into `{"error": "..."}`; anything else thrown is a 500 (our bug).
struct ApiError : std::runtime_error {
  ApiError(int status, const std::string& message) : std::runtime_error(message), status(status) {}
  int status;
};

// `{"error": message}` with that status.
HttpResponse error_response(int status, const std::string& message);

}  // namespace circuit::server
