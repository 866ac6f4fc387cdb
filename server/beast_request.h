// The header of a request Boost.Beast parsed, as the server layer's plain HttpRequest
// (lower-case field names, no body yet): one conversion shared by the server's connections and
// the HTTP fuzz target, so the target sees requests exactly as the server does.
#pragma once

#include <boost/beast/http.hpp>

#include <cctype>
#include <string>

#include "server/http_message.h"

namespace circuit::server {

inline HttpRequest header_of(const boost::beast::http::request<boost::beast::http::string_body>& request) {
  HttpRequest out;
  out.method = std::string(request.method_string());
  out.target = std::string(request.target());
  for (const auto& field : request) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(field.value());
  }
  return out;
}

}  // namespace circuit::server
