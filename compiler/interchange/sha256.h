// SHA-256 of bytes and files, as lowercase hex: the source and weights hashes that circuit
// documents record in their provenance. Part of the interchange stage (no dependencies).
#pragma once

#include <string>
#include <string_view>

namespace circuit::interchange {

std::string sha256_hex(std::string_view bytes);

}  // namespace circuit::interchange
