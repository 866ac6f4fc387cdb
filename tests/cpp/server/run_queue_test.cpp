// The session's event fan-out (bounded queues that drop a slow client's oldest events) and the
// run queue: one run at a time, in order; cancelling a waiting run and a running one; failures
// as one line; progress throttled. A stand-in executor replaces the model.
#include "server/run_queue.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "server/http_message.h"

namespace circuit::server {
namespace {

using namespace std::chrono_literals;

// Runs that wait until released (or cancelled), reporting progress as fast as they can.
class StandInExecutor : public RunExecutor {
 public:
  RunReport run(const RunJob& job, const std::atomic<bool>& cancel, const ProgressFn& progress) override {
    {
      std::lock_guard lock(mutex_);
      started_.push_back(job.id);
      ++running_;
      max_running_ = std::max(max_running_, running_);
    }
    changed_.notify_all();
    const auto start = std::chrono::steady_clock::now();
    std::int64_t step = 0;
    std::unique_lock lock(mutex_);
    while (!released_ && !cancel) {
      lock.unlock();
      progress(++step, 1000000, "stage 1");
      std::this_thread::sleep_for(50us);
      lock.lock();
      if (std::chrono::steady_clock::now() - start > 10s) break;
    }
    --running_;
    progress_calls_ += step;
    if (cancel) throw std::runtime_error("cancelled");
    if (job.path == "bad.circuit") throw std::runtime_error("bad.circuit:1:1: does not compile\nsecond line");
    return RunReport{true};
  }

  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
  }
  void wait_started(size_t n) {
    std::unique_lock lock(mutex_);
    ASSERT_TRUE(changed_.wait_for(lock, 5s, [&] { return started_.size() >= n; }));
  }
  std::vector<std::string> started() {
    std::lock_guard lock(mutex_);
    return started_;
  }
  int max_running() {
    std::lock_guard lock(mutex_);
    return max_running_;
  }
  std::int64_t progress_calls() {
    std::lock_guard lock(mutex_);
    return progress_calls_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> started_;
  bool released_ = false;
  int running_ = 0, max_running_ = 0;
  std::int64_t progress_calls_ = 0;
};

RunJob job(const std::string& path) {
  RunJob j;
  j.path = path;
  j.results = "results/" + path.substr(0, path.find('.'));
  return j;
}

RunState wait_for_end(SessionState& session, const std::string& id) {
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < 10s) {
    auto run = session.run(id);
    if (run && run_ended(run->state)) return run->state;
    std::this_thread::sleep_for(2ms);
  }
  ADD_FAILURE() << "run " << id << " did not end";
  return RunState::Running;
}

TEST(Subscriber, DropsTheOldestEventsOfASlowClient) {
  int wakes = 0;
  Subscriber s(3, [&] { ++wakes; });
  for (int i = 0; i < 5; ++i) s.push(std::make_shared<const std::string>(std::to_string(i)));
  EXPECT_EQ(wakes, 1);  // woken once, when the queue stopped being empty
  EXPECT_EQ(s.dropped(), 2u);
  EXPECT_EQ(*s.pop(), "2");
  EXPECT_EQ(*s.pop(), "3");
  EXPECT_EQ(*s.pop(), "4");
  EXPECT_EQ(s.pop(), nullptr);
}

TEST(SessionState, PublishesToLiveSubscribersOnly) {
  SessionState session;
  auto a = session.subscribe(8, nullptr);
  {
    auto b = session.subscribe(8, nullptr);
    EXPECT_EQ(session.subscriber_count(), 2u);
  }
  EXPECT_EQ(session.subscriber_count(), 1u);  // a released client is forgotten
  session.publish({{"type", "file"}, {"path", "a.circuit"}});
  auto event = a->pop();
  ASSERT_NE(event, nullptr);
  EXPECT_EQ(nlohmann::json::parse(*event)["path"], "a.circuit");
}

TEST(RunQueue, RunsOneAtATimeInOrder) {
  SessionState session;
  StandInExecutor executor;
  RunQueue queue(session, executor);
  auto r1 = queue.submit(job("a.circuit"));
  auto r2 = queue.submit(job("b.circuit"));
  EXPECT_EQ(r1.id, "r1");
  EXPECT_EQ(r2.id, "r2");
  executor.wait_started(1);
  EXPECT_EQ(session.run("r2")->state, RunState::Queued);
  executor.release();
  EXPECT_EQ(wait_for_end(session, "r1"), RunState::Done);
  EXPECT_EQ(wait_for_end(session, "r2"), RunState::Done);
  EXPECT_EQ(executor.max_running(), 1);
  EXPECT_EQ(executor.started(), (std::vector<std::string>{"r1", "r2"}));
  auto done = *session.run("r1");
  EXPECT_EQ(done.results, "results/a");
  EXPECT_EQ(done.passed, true);
  EXPECT_FALSE(done.started.empty());
  EXPECT_FALSE(done.finished.empty());
}

TEST(RunQueue, CancelsAWaitingRunAtOnceAndARunningOneSoon) {
  SessionState session;
  StandInExecutor executor;
  RunQueue queue(session, executor);
  auto r1 = queue.submit(job("a.circuit"));
  auto r2 = queue.submit(job("b.circuit"));
  executor.wait_started(1);
  EXPECT_EQ(queue.cancel("r2").state, RunState::Cancelled);
  auto running = queue.cancel("r1");
  EXPECT_TRUE(running.cancel_requested);
  EXPECT_EQ(wait_for_end(session, "r1"), RunState::Cancelled);
  EXPECT_EQ(executor.started(), std::vector<std::string>{"r1"});  // r2 never ran
  try {
    queue.cancel("r1");
    FAIL() << "cancelling an ended run must be 409";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status, 409);
  }
  try {
    queue.cancel("r9");
    FAIL() << "an unknown run must be 404";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status, 404);
  }
}

TEST(RunQueue, AFailedRunKeepsOneLineAndTheQueueGoesOn) {
  SessionState session;
  StandInExecutor executor;
  executor.release();
  RunQueue queue(session, executor);
  queue.submit(job("bad.circuit"));
  queue.submit(job("good.circuit"));
  EXPECT_EQ(wait_for_end(session, "r1"), RunState::Failed);
  EXPECT_EQ(session.run("r1")->error, "bad.circuit:1:1: does not compile");
  EXPECT_EQ(wait_for_end(session, "r2"), RunState::Done);
}

TEST(RunQueue, ThrottlesProgressEvents) {
  SessionState session;
  auto client = session.subscribe(100000, nullptr);
  StandInExecutor executor;
  RunQueue queue(session, executor);
  queue.submit(job("a.circuit"));
  executor.wait_started(1);
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(350ms);
  executor.release();
  wait_for_end(session, "r1");
  const double tenths = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() * 10;
  int progress_events = 0;
  while (auto event = client->pop()) {
    auto j = nlohmann::json::parse(*event);
    if (j["run"]["state"] == "running" && j["run"]["progress"]["done"].get<int>() > 0) ++progress_events;
  }
  EXPECT_GE(progress_events, 2);
  EXPECT_LE(progress_events, tenths + 2);  // at most 10 a second (0.35 s, longer on a busy machine)
  EXPECT_GT(executor.progress_calls(), 100);  // while the executor reported far more often
}

TEST(RunQueue, BoundsTheWaitingRuns) {
  SessionState session;
  StandInExecutor executor;
  RunQueue queue(session, executor, /*max_waiting=*/2);
  queue.submit(job("a.circuit"));
  executor.wait_started(1);
  queue.submit(job("b.circuit"));
  queue.submit(job("c.circuit"));
  try {
    queue.submit(job("d.circuit"));
    FAIL() << "a full queue must refuse";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status, 429);
  }
  queue.stop();  // shutting down cancels the running and the waiting runs
  EXPECT_EQ(session.run("r1")->state, RunState::Cancelled);
  EXPECT_EQ(session.run("r3")->state, RunState::Cancelled);
}

}  // namespace
}  // namespace circuit::server
