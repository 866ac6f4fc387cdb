// RunQueue: runs the session's runs one at a time, in the order they were asked for, on one
// worker thread that owns the (shared) model while it runs; the HTTP thread only queues and
// cancels. Progress reaches clients through SessionState, at most 10 events a second per run.
// The RunExecutor does the work (cli/runtime/cmd_serve.cpp: the run driver on libtorch), so
// this file and its tests need no model. Part of the server layer (server/).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "server/session_state.h"

namespace circuit::server {

struct RunJob {
  std::string id;                       // "r1"
  std::string path;                     // the workspace-relative .circuit file
  std::filesystem::path file;           // the same, absolute
  std::filesystem::path results_dir;    // absolute: WORKSPACE/results/<stem>
  std::string results;                  // the same, workspace-relative ("results/<stem>")
};

struct RunReport {
  std::optional<bool> passed;  // every claim held (results.json's "passed")
};

using ProgressFn = std::function<void(std::int64_t done, std::int64_t total, const std::string& label)>;

class RunExecutor {
 public:
  virtual ~RunExecutor() = default;
  // Runs `job.file` and writes its results into `job.results_dir`, calling `progress` as it
  // goes. Throws (one line) when the run fails; once `cancel` is true it stops at the next
  // forward and throws, leaving the results folder as it was.
  virtual RunReport run(const RunJob& job, const std::atomic<bool>& cancel, const ProgressFn& progress) = 0;
};

class RunQueue {
 public:
  // At most `max_waiting` runs wait behind the running one.
  RunQueue(SessionState& session, RunExecutor& executor, size_t max_waiting = 16);
  ~RunQueue();
  RunQueue(const RunQueue&) = delete;
  RunQueue& operator=(const RunQueue&) = delete;

  // Queues a run (id assigned by the session); ApiError 429 when the queue is full, 503 once
  // stopped.
  RunRecord submit(RunJob job);
  // Cancels a waiting run at once, or asks the running one to stop (it ends "cancelled" soon
  // after). ApiError 404 for an unknown id, 409 when the run already ended.
  RunRecord cancel(const std::string& id);
  // Cancels everything and joins the worker (the server's shutdown). Idempotent.
  void stop();

 private:
  void work();
  void execute(const RunJob& job);

  SessionState& session_;
  RunExecutor& executor_;
  size_t max_waiting_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<RunJob> waiting_;
  std::string running_;               // id of the run in progress, empty when idle
  std::atomic<bool> cancel_running_{false};
  bool stopping_ = false;
  std::thread worker_;
};

// The first line of an error message, at most 500 characters (libtorch's carry backtraces).
std::string one_line(const std::string& message);

}  // namespace circuit::server
