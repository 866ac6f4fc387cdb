// FILE|DIR expansion.
#include "compiler/driver/source_files.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

namespace circuit::compiler {

std::vector<std::string> expand_circuit_paths(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  for (const auto& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::recursive_directory_iterator(path, ec))
        if (entry.is_regular_file() && entry.path().extension() == ".circuit") found.push_back(entry.path().string());
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(path, ec)) {
      out.push_back(path);
    } else {
      throw std::runtime_error(path + ": no such file or folder");
    }
  }
  return out;
}

}  // namespace circuit::compiler
