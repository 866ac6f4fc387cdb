#include "run/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace circuit::cli::run {

ProgressBar::ProgressBar(bool enabled) : active_(enabled && ::isatty(STDERR_FILENO) == 1) {}

ProgressBar::~ProgressBar() { clear(); }

void ProgressBar::set_stage(int stage) { stage_ = stage; }

void ProgressBar::update(std::int64_t done, std::int64_t total, const std::string& what) {
  if (!active_ || total <= 0) return;
  // Redrawing costs a write per forward; ten times a second is plenty for the eye.
  const auto now = std::chrono::steady_clock::now();
  if (done < total && drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * std::clamp<double>(double(done) / double(total), 0, 1));
  std::string bar(filled, '#');
  bar.resize(kWidth, '.');
  std::string label = what.size() > 32 ? what.substr(0, 31) + "~" : what;
  std::fprintf(stderr, "\r\033[Kstage %d [%s] %lld/%lld %s", stage_, bar.c_str(), static_cast<long long>(done),
               static_cast<long long>(total), label.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::clear() {
  if (!drawn_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace circuit::cli::run
