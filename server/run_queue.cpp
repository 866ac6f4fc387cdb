#include "server/run_queue.h"

#include <chrono>

#include "server/http_message.h"
#include "server/iso_time.h"

namespace circuit::server {
namespace {

constexpr auto kProgressInterval = std::chrono::milliseconds(100);  // 10 events a second

std::string now_text() { return iso_utc(std::chrono::system_clock::now()); }

}  // namespace

std::string one_line(const std::string& message) {
  std::string line = message.substr(0, message.find('\n'));
  if (line.size() > 500) line = line.substr(0, 497) + "...";
  return line.empty() ? std::string("unknown error") : line;
}

RunQueue::RunQueue(SessionState& session, RunExecutor& executor, size_t max_waiting)
    : session_(session), executor_(executor), max_waiting_(max_waiting), worker_([this] { work(); }) {}

RunQueue::~RunQueue() { stop(); }

RunRecord RunQueue::submit(RunJob job) {
  std::lock_guard lock(mutex_);
  if (stopping_) throw ApiError(503, "runs: the server is shutting down");
  if (waiting_.size() >= max_waiting_)
    throw ApiError(429, "runs: " + std::to_string(waiting_.size()) + " runs already wait; cancel one or try later");
  RunRecord run = session_.add_run(job.path);
  job.id = run.id;
  waiting_.push_back(std::move(job));
  wake_.notify_one();
  return run;
}

RunRecord RunQueue::cancel(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto run = session_.run(id);
  if (!run) throw ApiError(404, "run '" + id + "': no such run");
  for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
    if (it->id != id) continue;
    waiting_.erase(it);
    session_.update_run(id, [](RunRecord& r) {
      r.state = RunState::Cancelled;
      r.finished = now_text();
    });
    return *session_.run(id);
  }
  if (running_ == id) {
    // The worker sets the final state; the flag is checked by the executor between forwards.
    cancel_running_ = true;
    session_.update_run(id, [](RunRecord& r) {
      if (!run_ended(r.state)) r.cancel_requested = true;
    });
    run = session_.run(id);
    if (!run_ended(run->state)) return *run;
  }
  throw ApiError(409, "run '" + id + "': already " + run_state_name(run->state));
}

void RunQueue::stop() {
  std::deque<RunJob> dropped;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !worker_.joinable()) return;
    stopping_ = true;
    cancel_running_ = true;
    dropped.swap(waiting_);
    wake_.notify_all();
  }
  for (const auto& job : dropped)
    session_.update_run(job.id, [](RunRecord& r) {
      r.state = RunState::Cancelled;
      r.finished = now_text();
    });
  if (worker_.joinable() && worker_.get_id() != std::this_thread::get_id()) worker_.join();
}

void RunQueue::work() {
  for (;;) {
    RunJob job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });  // no polling
      if (stopping_) return;
      job = std::move(waiting_.front());
      waiting_.pop_front();
      running_ = job.id;
      cancel_running_ = false;
    }
    execute(job);
    std::lock_guard lock(mutex_);
    running_.clear();
  }
}

void RunQueue::execute(const RunJob& job) {
  const auto start = std::chrono::steady_clock::now();
  session_.update_run(job.id, [](RunRecord& r) {
    r.state = RunState::Running;
    r.started = now_text();
  });
  // Throttled: the executor may report every forward; clients need a few updates a second.
  auto last_sent = std::chrono::steady_clock::time_point{};
  ProgressFn progress = [&](std::int64_t done, std::int64_t total, const std::string& label) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_sent < kProgressInterval) return;
    last_sent = now;
    session_.update_run(job.id, [&](RunRecord& r) { r.progress = {done, total, label}; });
  };
  RunState state = RunState::Done;
  std::string error;
  RunReport report;
  try {
    report = executor_.run(job, cancel_running_, progress);
  } catch (const std::exception& e) {
    state = cancel_running_ ? RunState::Cancelled : RunState::Failed;
    error = one_line(e.what());
  } catch (...) {
    state = cancel_running_ ? RunState::Cancelled : RunState::Failed;
    error = "the run stopped on an unknown error";
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  session_.update_run(job.id, [&](RunRecord& r) {
    r.state = state;
    r.finished = now_text();
    r.seconds = seconds;
    r.cancel_requested = false;
    if (state == RunState::Failed) r.error = error;
    if (state == RunState::Done) {
      r.passed = report.passed;
      r.results = job.results;
      if (r.progress.total > 0) r.progress.done = r.progress.total;
    }
  });
}

}  // namespace circuit::server
