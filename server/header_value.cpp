#include "server/header_value.h"

#include <cctype>
#include <stdexcept>

namespace circuit::server {

bool holds_control_character(std::string_view text) {
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

const std::string& checked_header_value(std::string_view name, const std::string& value) {
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f)
      throw std::invalid_argument("header " + std::string(name) + ": its value holds a control or non-ASCII byte");
  }
  return value;
}

std::string attachment_disposition(std::string_view filename) {
  std::string safe;
  for (char c : filename.substr(0, 200)) {
    const bool plain = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
    safe += plain && static_cast<unsigned char>(c) < 0x80 ? c : '_';
  }
  if (safe.empty()) safe = "download";
  return "attachment; filename=\"" + safe + "\"";
}

}  // namespace circuit::server
