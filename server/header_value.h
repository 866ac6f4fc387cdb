// Header values: the one function every header the server writes goes through, so that no
// name a client chose (a file, a run, a tensor) can end a header line and start another (HTTP
// response splitting), and the names that the API refuses for the same reason. Part of the
// server layer (server/).
#pragma once

#include <string>
#include <string_view>

namespace circuit::server {

// Whether `text` holds a control character: a byte below 0x20 (CR, LF, TAB, NUL, ...) or DEL.
// File, run and tensor names with one are refused at the API (400).
bool holds_control_character(std::string_view text);

// `value` as the value of header `name`, unchanged; std::invalid_argument naming the header
// when it holds a control character (CR or LF would inject a header) or a byte over 0x7e.
const std::string& checked_header_value(std::string_view name, const std::string& value);

// `attachment; filename="NAME"` for a download, NAME reduced to letters, digits, '.', '-' and
// '_' (anything else becomes '_'), so a folder's name cannot break the header or its quoting.
std::string attachment_disposition(std::string_view filename);

}  // namespace circuit::server
