// InterruptGuard: turns Ctrl-C (SIGINT) during `circuit run`/`circuit test` into a cancel flag
// that the plan executor checks between forwards, so a run stops cleanly and writes nothing.
// Part of the run driver (cli/run). A second Ctrl-C kills the process at once.
#pragma once

#include <atomic>

namespace circuit::cli::run {

class InterruptGuard {
 public:
  InterruptGuard();   // installs the SIGINT handler and clears the flag
  ~InterruptGuard();  // restores the previous handler
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  const std::atomic<bool>* flag() const;
  bool interrupted() const;
};

// The exit status of a process stopped by SIGINT, as shells report it.
inline constexpr int kInterruptedExitCode = 130;

}  // namespace circuit::cli::run
