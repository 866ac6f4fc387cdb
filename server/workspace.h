// Workspace: the folder `circuit serve` works on. Every path a client names is checked here
// (relative, '/'-separated, no '.', '..', empty, '\' or control-character part, no symlink
// leading out or nowhere), the .circuit files are listed here, and files are written atomically
// (temporary file + rename), so a crash or a full disk never leaves a half-written file. Part
// of the server layer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace circuit::server {

struct FileEntry {
  std::string path;      // workspace-relative, '/'-separated
  std::uintmax_t size = 0;
  std::string modified;  // "2026-11-25T18:00:00Z"
};

class Workspace {
 public:
  // `root` must be an existing folder; throws std::runtime_error naming it otherwise.
  explicit Workspace(const std::filesystem::path& root);

  const std::filesystem::path& root() const { return root_; }  // absolute and canonical

  // The absolute path of a workspace-relative path as a client spells it. Throws ApiError 400
  // naming the path and the reason for anything that could leave the workspace.
  std::filesystem::path resolve(std::string_view relative) const;
  // Same, and the path must name a .circuit file.
  std::filesystem::path resolve_circuit_file(std::string_view relative) const;

  // Every .circuit file under the workspace, sorted; results/ and hidden folders left out.
  std::vector<FileEntry> list_circuit_files() const;

  // The text of a .circuit file; ApiError 404 when it does not exist.
  std::string read_text(std::string_view relative) const;
  // Writes a .circuit file atomically, creating its folders; ApiError on failure.
  void write_text(std::string_view relative, std::string_view text) const;

  // A path under the workspace as the API spells it ("examples/a.circuit"); `absolute`
  // unchanged when it lies outside.
  std::string relative_of(const std::filesystem::path& absolute) const;

 private:
  std::filesystem::path root_;
};

// Writes `bytes` to `path` through a temporary file in the same folder and a rename: readers
// see the old file or the new one, never a part. Throws std::runtime_error naming the file.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

}  // namespace circuit::server
