// The switch is one renameat2(RENAME_EXCHANGE) when the target exists: Linux swaps the two
// names atomically, so the target is at every moment the old folder or the new one (a plain
// rename cannot replace a non-empty folder). A new target is one rename. Where the filesystem
// cannot exchange (EINVAL: some network filesystems), the old folder is renamed aside and the new
// one into place; a crash between the two leaves the old set aside, and the next write puts it
// back before anything else. Temporary names start with a dot, so that workspace listings and
// `circuit serve`'s saved runs never show them.
#include "run/results_commit.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "runtime/exec/plan_executor.h"

namespace circuit::cli::run {
namespace {

namespace fs = std::filesystem;

std::string system_error(int error) { return std::strerror(error); }

// ".<name>.tmp-<pid>" holds a new set being written; ".<name>.old-<pid>" an old set renamed aside.
std::string temp_name(const std::string& name, const char* kind, long pid) {
  return "." + name + "." + kind + "-" + std::to_string(pid);
}

// The pid of a temporary name of `name`'s, or 0 when `entry` is not one.
long temp_pid(const std::string& entry, const std::string& name, const char* kind) {
  const std::string prefix = "." + name + "." + kind + "-";
  if (!entry.starts_with(prefix)) return 0;
  const std::string digits = entry.substr(prefix.size());
  if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) return 0;
  return std::stol(digits);
}

bool running(long pid) { return pid == ::getpid() || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH; }

// What a crashed writer left beside `target`: its new set half written (removed), or the old
// set renamed aside (put back when the target is missing, removed otherwise).
void remove_stale(const fs::path& target) {
  const fs::path parent = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  const std::string name = target.filename().string();
  std::error_code error;
  for (fs::directory_iterator it(parent, error); !error && it != fs::directory_iterator(); it.increment(error)) {
    const std::string entry = it->path().filename().string();
    const long tmp = temp_pid(entry, name, "tmp"), old = temp_pid(entry, name, "old");
    if ((tmp == 0 && old == 0) || running(tmp ? tmp : old)) continue;
    std::error_code ignored;
    if (old && !fs::exists(fs::symlink_status(target, ignored))) fs::rename(it->path(), target, ignored);
    else fs::remove_all(it->path(), ignored);
  }
}

// Swaps `a` and `b` (both exist); false when the filesystem cannot.
bool exchange(const fs::path& a, const fs::path& b) {
  if (::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) == 0) return true;
  if (errno == EINVAL || errno == ENOSYS || errno == ENOTSUP) return false;
  throw std::runtime_error(b.string() + ": cannot replace the results folder (" + system_error(errno) + ")");
}

void rename_or_throw(const fs::path& from, const fs::path& to) {
  std::error_code error;
  fs::rename(from, to, error);
  if (error) throw std::runtime_error(to.string() + ": cannot write the results folder (" + error.message() + ")");
}

// Removes the old set one entry at a time (a crash part way leaves a stale folder to the next write).
void remove_old(const fs::path& folder) {
  std::error_code error;
  bool first = true;
  for (fs::directory_iterator it(folder, error); !error && it != fs::directory_iterator();) {
    const fs::path entry = it->path();
    it.increment(error);
    std::error_code ignored;
    fs::remove_all(entry, ignored);
    if (first) commit_step(CommitStep::OldRemoving);
    first = false;
  }
  std::error_code ignored;
  fs::remove_all(folder, ignored);
}

}  // namespace

void commit_step(CommitStep step, int index) {
  const char* text = std::getenv("CIRCUIT_TEST_KILL_AT_STEP");  // read each time: tests fork
  const int kill_at = text ? std::atoi(text) : 0;
  if (kill_at > 0 && kill_at == static_cast<int>(step) + index) ::raise(SIGKILL);
}

void sync_to_disk(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(path.string() + ": cannot open to flush (" + system_error(errno) + ")");
  // Folders on some filesystems refuse fsync (EINVAL): nothing more can be done for them.
  const bool failed = ::fsync(fd) != 0 && errno != EINVAL;
  const int error = errno;
  ::close(fd);
  if (failed) throw std::runtime_error(path.string() + ": cannot flush to disk (" + system_error(error) + ")");
}

void commit_folder(const fs::path& given, const std::vector<std::string>& names,
                   const std::function<void(const fs::path&)>& write, const std::atomic<bool>* cancel) {
  std::error_code error;
  fs::path target = given.lexically_normal();
  if (target.filename().empty()) target = target.parent_path();  // "results/x/"
  if (target.empty() || target.filename() == "." || target.filename() == "..")
    target = fs::absolute(given, error).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();
  // A link to a results folder stays a link: the folder it names is the one replaced.
  if (fs::is_symlink(fs::symlink_status(target, error))) {
    target = fs::canonical(target, error);
    if (error) throw std::runtime_error(given.string() + ": a link to a missing folder (" + error.message() + ")");
  }
  const fs::path parent = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  if (target.filename().empty() || target == parent)
    throw std::runtime_error(given.string() + ": not a results folder (name a folder of its own, e.g. results/x)");
  fs::create_directories(parent, error);
  if (error) throw std::runtime_error(parent.string() + ": cannot create the folder (" + error.message() + ")");
  if (fs::exists(fs::symlink_status(target, error))) {
    if (!fs::is_directory(fs::status(target, error)))
      throw std::runtime_error(target.string() + ": exists and is not a folder");
    // Only a results folder is replaced (the earlier writer's temporary files may be there too).
    for (const auto& entry : fs::directory_iterator(target, error)) {
      const std::string file = entry.path().filename().string();
      const bool ours = std::find(names.begin(), names.end(), file) != names.end() ||
                        (file.starts_with(".") && file.find(".tmp.") != std::string::npos);
      if (!ours)
        throw std::runtime_error(target.string() + ": holds '" + file +
                                 "', which is not a result file; write the results to a folder of their own");
    }
  }
  remove_stale(target);

  const std::string name = target.filename().string();
  const fs::path temp = parent / temp_name(name, "tmp", ::getpid());
  fs::remove_all(temp, error);
  fs::create_directory(temp, error);
  if (error) throw std::runtime_error(temp.string() + ": cannot create the folder (" + error.message() + ")");
  commit_step(CommitStep::TempCreated);
  try {
    write(temp);
    for (const auto& entry : fs::directory_iterator(temp)) sync_to_disk(entry.path());
    sync_to_disk(temp);
    commit_step(CommitStep::FilesSynced);
    if (cancel && cancel->load()) throw rt::ExecutionCancelled();
  } catch (...) {
    fs::remove_all(temp, error);
    throw;
  }

  fs::path old;  // where the old set is once the new one is in place
  try {
    if (!fs::exists(fs::symlink_status(target, error))) {
      rename_or_throw(temp, target);
    } else if (exchange(temp, target)) {
      old = temp;
    } else {
      old = parent / temp_name(name, "old", ::getpid());
      rename_or_throw(target, old);
      try {
        rename_or_throw(temp, target);
      } catch (...) {
        fs::rename(old, target, error);  // the old set back in place
        throw;
      }
    }
  } catch (...) {
    fs::remove_all(temp, error);
    throw;
  }
  commit_step(CommitStep::Switched);
  sync_to_disk(parent);
  commit_step(CommitStep::ParentSynced);
  if (!old.empty()) remove_old(old);
  commit_step(CommitStep::Done);
}

}  // namespace circuit::cli::run
