// SessionState: the server-side objects of a live session (its runs, and the clients that
// watch them) and the event fan-out: every change is published once, serialized once, and
// pushed into each subscriber's bounded queue, dropping that client's oldest events when it
// falls behind, so a slow or vanished client never blocks a run or another client. Several
// browser tabs (and later several users) share one SessionState. Part of the server layer.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace circuit::server {

enum class RunState { Queued, Running, Done, Failed, Cancelled };
const char* run_state_name(RunState state);  // "queued", "running", ...
inline bool run_ended(RunState s) { return s == RunState::Done || s == RunState::Failed || s == RunState::Cancelled; }

struct RunProgress {
  std::int64_t done = 0;
  std::int64_t total = 0;
  std::string label;
};

// A run as the API shows it (docs/server-api.md, "Run").
struct RunRecord {
  std::string id;        // "r1", or "saved:STEM" for results found on disk
  std::string path;      // the workspace-relative .circuit file
  RunState state = RunState::Queued;
  RunProgress progress;
  std::string error;     // one line, when failed
  std::string started, finished;  // ISO times; empty until then
  double seconds = 0;
  std::optional<bool> passed;     // every claim held; nullopt until done
  std::string results;   // workspace-relative results folder ("results/induction"), once done
  bool cancel_requested = false;
};

nlohmann::json run_to_json(const RunRecord& run);

// One client's queue of serialized events. Pushing never blocks: beyond `capacity` the oldest
// event is dropped. `wake` is called (from the publishing thread) when the queue goes from
// empty to non-empty, so the client's connection can start writing.
class Subscriber {
 public:
  Subscriber(size_t capacity, std::function<void()> wake) : capacity_(capacity), wake_(std::move(wake)) {}

  void push(std::shared_ptr<const std::string> event);
  // The oldest event, or null when the queue is empty.
  std::shared_ptr<const std::string> pop();
  std::uint64_t dropped() const;

 private:
  mutable std::mutex mutex_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  size_t capacity_;
  std::uint64_t dropped_ = 0;
  std::function<void()> wake_;
};

class SessionState {
 public:
  // A new run of `path`, queued, with the next id ("r1", "r2", ...). Published.
  RunRecord add_run(const std::string& path);
  // Applies `change` to run `id` under the lock and publishes the result; false when unknown.
  bool update_run(const std::string& id, const std::function<void(RunRecord&)>& change);
  std::optional<RunRecord> run(const std::string& id) const;
  std::vector<RunRecord> runs() const;  // in the order they were added

  // Registers a client; it receives every event published from now on until the returned
  // pointer is released (the session keeps only a weak reference).
  std::shared_ptr<Subscriber> subscribe(size_t capacity, std::function<void()> wake);
  size_t subscriber_count() const;

  // Sends `event` to every subscriber.
  void publish(const nlohmann::json& event);

 private:
  void send(const nlohmann::json& event);  // order_mutex_ held

  // Held from a change to its event, so that clients see changes in the order they happened
  // (a run's "done" never arrives before its last progress).
  std::mutex order_mutex_;
  mutable std::mutex mutex_;  // the runs and the subscriber list
  std::vector<RunRecord> runs_;
  std::map<std::string, size_t> run_index_;
  int next_run_ = 1;
  std::vector<std::weak_ptr<Subscriber>> subscribers_;
};

}  // namespace circuit::server
