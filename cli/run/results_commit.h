// Committing a results folder as a set: the files are written into a temporary folder beside
// the target, flushed to disk, and the folder takes the target's place in one atomic step, so a
// crash at any moment leaves the target holding either its complete old files or the complete
// new ones. Part of the results layer (cli/run); write_results (results_writer.h) uses it.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace circuit::cli::run {

// The steps of a commit, in order. CIRCUIT_TEST_KILL_AT_STEP=N (a test hook) makes the
// writer SIGKILL itself right after step N, so that tests can check every crash point.
enum class CommitStep {
  TempCreated = 1,  // the temporary folder .<name>.tmp-<pid> exists beside the target
  FileWritten = 2,  // `write` wrote its file number `index` (steps 2, 3, 4 for results' three)
  FilesSynced = 5,  // every file and the temporary folder are on disk
  Switched,         // the temporary folder is the target; the old set is under the temporary name
  ParentSynced,     // the switch is on disk
  OldRemoving,      // the old set is partly removed (one file gone)
  Done,             // the old set is gone
};
inline constexpr int kLastCommitStep = static_cast<int>(CommitStep::Done);

// Raises SIGKILL when CIRCUIT_TEST_KILL_AT_STEP is `step` + `index` (`index` counts the files
// written, from 0; only for FileWritten).
void commit_step(CommitStep step, int index = 0);

// Makes `target` hold exactly the files `write(folder)` writes into the folder it is given,
// which are among `names`. An existing `target` holding anything else is refused (it is not a
// results folder, and a switch would throw that away). Stale temporary folders beside `target`
// whose writer is no longer running are removed first. `cancel` (optional) is checked after `write`: when set, the temporary folder is
// removed and rt::ExecutionCancelled is thrown, leaving `target` as it was. Errors throw
// std::runtime_error (one line naming the path), and leave `target` as it was.
void commit_folder(const std::filesystem::path& target, const std::vector<std::string>& names,
                   const std::function<void(const std::filesystem::path&)>& write,
                   const std::atomic<bool>* cancel = nullptr);

// Flushes a file written through another handle (or a folder's entries) to disk.
void sync_to_disk(const std::filesystem::path& path);

}  // namespace circuit::cli::run
