#include "server/workspace.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "compiler/resolve/source_resolver.h"

#include "server/header_value.h"
#include "server/http_message.h"
#include "server/iso_time.h"

namespace circuit::server {
namespace fs = std::filesystem;
namespace {

constexpr size_t kMaxPathLength = 1024;
constexpr size_t kMaxListedFiles = 10000;  // a workspace is a folder of circuits, not a disk

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// `relative` for an error message: printable, and not a kilobyte long.
std::string shown(std::string_view relative) {
  std::string out;
  for (char c : relative.substr(0, 120)) out += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
  if (relative.size() > 120) out += "...";
  return "'" + out + "'";
}

}  // namespace

Workspace::Workspace(const fs::path& root) {
  std::error_code error;
  root_ = fs::canonical(root, error);
  if (error || !fs::is_directory(root_))
    throw std::runtime_error(root.string() + ": not a folder (the workspace must exist)");
}

fs::path Workspace::resolve(std::string_view relative) const {
  auto refuse = [&](const std::string& why) { throw ApiError(400, "path " + shown(relative) + ": " + why); };
  if (relative.empty()) refuse("empty");
  if (relative.size() > kMaxPathLength) refuse("longer than 1024 bytes");
  if (relative.find('\0') != std::string_view::npos) refuse("holds a NUL byte");
  // A name with CR or LF could break a header or a log line wherever it is shown again.
  if (holds_control_character(relative)) refuse("holds a control character");
  if (relative.find('\\') != std::string_view::npos) refuse("holds a backslash (use '/')");
  if (relative.front() == '/') refuse("absolute; paths are relative to the workspace");
  fs::path joined = root_;
  size_t start = 0;
  while (start <= relative.size()) {
    size_t end = relative.find('/', start);
    if (end == std::string_view::npos) end = relative.size();
    std::string_view part = relative.substr(start, end - start);
    if (part.empty()) refuse("has an empty part ('//' or a trailing '/')");
    if (part == "." || part == "..") refuse("has a '" + std::string(part) + "' part");
    joined /= std::string(part);
    start = end + 1;
  }
  // Symlinks are followed as far as the path exists: one that leads out of the workspace
  // would let a client read or overwrite anything. A symlink that leads nowhere ends what
  // weakly_canonical can follow, so it is refused on its own: where it would lead is not ours.
  std::error_code error;
  fs::path prefix = root_;
  for (const auto& part : joined.lexically_relative(root_)) {
    prefix /= part;
    const auto status = fs::symlink_status(prefix, error);
    if (error || !fs::exists(status)) break;
    if (fs::is_symlink(status) && !fs::exists(prefix, error)) refuse("goes through a symlink that leads nowhere");
  }
  error.clear();
  fs::path real = fs::weakly_canonical(joined, error);
  if (error) refuse("cannot be resolved (" + error.message() + ")");
  if (!compiler::path_within(real, root_)) refuse("leads out of the workspace (through a symlink)");
  return joined;
}

fs::path Workspace::resolve_circuit_file(std::string_view relative) const {
  fs::path path = resolve(relative);
  if (!ends_with(relative, ".circuit") || relative.size() == std::string_view(".circuit").size() ||
      ends_with(relative, "/.circuit"))
    throw ApiError(400, "path " + shown(relative) + ": not a .circuit file");
  return path;
}

std::vector<FileEntry> Workspace::list_circuit_files() const {
  std::vector<FileEntry> files;
  std::error_code error;
  fs::recursive_directory_iterator it(root_, fs::directory_options::skip_permission_denied, error);
  for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    const auto& entry = *it;
    const std::string name = entry.path().filename().string();
    std::error_code status_error;
    const auto status = entry.symlink_status(status_error);
    if (status_error) continue;
    if (fs::is_directory(status)) {
      // Results, hidden folders (.git) and dependency trees hold no circuits of the user's.
      if ((it.depth() == 0 && name == "results") || name.starts_with(".") || name == "node_modules")
        it.disable_recursion_pending();
      continue;
    }
    if (!fs::is_regular_file(status) || !ends_with(name, ".circuit") || name.starts_with(".")) continue;
    FileEntry file;
    file.path = relative_of(entry.path());
    file.size = entry.file_size(status_error);
    auto modified = entry.last_write_time(status_error);
    if (!status_error) file.modified = iso_utc(modified);
    files.push_back(std::move(file));
    if (files.size() >= kMaxListedFiles) break;
  }
  std::sort(files.begin(), files.end(), [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
  return files;
}

std::string Workspace::read_text(std::string_view relative) const {
  const fs::path path = resolve_circuit_file(relative);
  std::error_code error;
  if (!fs::is_regular_file(path, error)) throw ApiError(404, "file " + shown(relative) + ": not found");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) throw ApiError(500, "file " + shown(relative) + ": cannot be read");
  return text.str();
}

void Workspace::write_text(std::string_view relative, std::string_view text) const {
  const fs::path path = resolve_circuit_file(relative);
  std::error_code error;
  if (fs::is_directory(path, error)) throw ApiError(400, "path " + shown(relative) + ": is a folder");
  fs::create_directories(path.parent_path(), error);
  if (error) throw ApiError(500, "file " + shown(relative) + ": cannot create its folder (" + error.message() + ")");
  try {
    write_file_atomically(path, text);
  } catch (const std::exception& e) {
    throw ApiError(500, "file " + shown(relative) + ": " + e.what());
  }
}

std::string Workspace::relative_of(const fs::path& absolute) const {
  if (!compiler::path_within(absolute, root_)) return absolute.string();
  return absolute.lexically_relative(root_).generic_string();
}

void write_file_atomically(const fs::path& path, std::string_view bytes) {
  // A name no other writer uses: this process and a counter; a leading dot keeps it out of
  // listings while it exists.
  static std::atomic<unsigned> counter{0};
  std::string name = ".";
  name += path.filename().string();
  name += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  const fs::path temp = path.parent_path() / name;
  auto fail = [&](const char* what) {
    const std::string reason = std::strerror(errno);
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw std::runtime_error(std::string(what) + " (" + reason + ")");
  };
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot create a temporary file");
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      fail("cannot write");
    }
    written += static_cast<size_t>(n);
  }
  // The data must be on disk before the rename makes it the file, or a power cut could leave
  // an empty file under the old name.
  if (::fsync(fd) != 0) {
    ::close(fd);
    fail("cannot flush to disk");
  }
  if (::close(fd) != 0) fail("cannot close");
  if (::rename(temp.c_str(), path.c_str()) != 0) fail("cannot replace the file");
}

}  // namespace circuit::server
