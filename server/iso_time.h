// UTC timestamps as the API spells them ("2026-11-25T18:00:00Z"), for files, runs and results.
// Part of the server layer (server/).
#pragma once

#include <chrono>
#include <ctime>
#include <filesystem>
#include <string>

namespace circuit::server {

inline std::string iso_utc(std::chrono::system_clock::time_point when) {
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm parts{};
  gmtime_r(&t, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

inline std::string iso_utc(std::filesystem::file_time_type when) {
  return iso_utc(std::chrono::time_point_cast<std::chrono::system_clock::duration>(std::chrono::file_clock::to_sys(when)));
}

}  // namespace circuit::server
