// ProgressBar: a one-line progress bar on stderr for `circuit run`, drawn only when stderr is a
// terminal (never in logs, pipes or tests). Part of the run driver (cli/run).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace circuit::cli::run {

class ProgressBar {
 public:
  // Draws only when `enabled` and stderr is a terminal.
  explicit ProgressBar(bool enabled);
  ~ProgressBar();

  void set_stage(int stage);
  // The executor's callback: `done` of `total` units, working on `what`.
  void update(std::int64_t done, std::int64_t total, const std::string& what);
  // Erases the bar so that the summary starts on a clean line.
  void clear();

  bool active() const { return active_; }

 private:
  bool active_ = false;
  bool drawn_ = false;
  int stage_ = 1;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace circuit::cli::run
