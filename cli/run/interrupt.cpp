#include "run/interrupt.h"

#include <csignal>

namespace circuit::cli::run {
namespace {

// A lock-free atomic is safe to store from a signal handler.
std::atomic<bool> g_interrupted{false};
struct sigaction g_previous {};

extern "C" void on_sigint(int) {
  if (g_interrupted.exchange(true)) {
    // Second Ctrl-C: the user wants out now, whatever the executor is doing.
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
  }
}

}  // namespace

InterruptGuard::InterruptGuard() {
  static_assert(std::atomic<bool>::is_always_lock_free);
  g_interrupted = false;
  struct sigaction action {};
  action.sa_handler = on_sigint;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  sigaction(SIGINT, &action, &g_previous);
}

InterruptGuard::~InterruptGuard() { sigaction(SIGINT, &g_previous, nullptr); }

const std::atomic<bool>* InterruptGuard::flag() const { return &g_interrupted; }

bool InterruptGuard::interrupted() const { return g_interrupted.load(); }

}  // namespace circuit::cli::run
