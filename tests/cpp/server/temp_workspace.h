// A temporary workspace folder for the server's tests, removed at the end of the test.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace circuit::server::testing {

struct TempWorkspace {
  std::filesystem::path root;

  TempWorkspace() {
    std::string pattern = (std::filesystem::temp_directory_path() / "circuit-serve-XXXXXX").string();
    root = ::mkdtemp(pattern.data());
  }
  ~TempWorkspace() {
    std::error_code ignored;
    std::filesystem::remove_all(root, ignored);
  }

  std::filesystem::path write(const std::string& relative, const std::string& text) const {
    auto path = root / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::string read(const std::string& relative) const {
    std::ifstream in(root / relative, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
};

}  // namespace circuit::server::testing
