#include "server/session_state.h"

namespace circuit::server {

const char* run_state_name(RunState state) {
  switch (state) {
    case RunState::Queued: return "queued";
    case RunState::Running: return "running";
    case RunState::Done: return "done";
    case RunState::Failed: return "failed";
    case RunState::Cancelled: return "cancelled";
  }
  return "failed";
}

nlohmann::json run_to_json(const RunRecord& run) {
  nlohmann::json j = {
      {"id", run.id},
      {"path", run.path},
      {"state", run_state_name(run.state)},
      {"progress", {{"done", run.progress.done}, {"total", run.progress.total}, {"label", run.progress.label}}},
      {"started", run.started.empty() ? nlohmann::json() : nlohmann::json(run.started)},
      {"finished", run.finished.empty() ? nlohmann::json() : nlohmann::json(run.finished)},
      {"seconds", run.seconds},
      {"passed", run.passed ? nlohmann::json(*run.passed) : nlohmann::json()},
      {"results", run.results.empty() ? nlohmann::json() : nlohmann::json(run.results)},
  };
  if (run.state == RunState::Failed) j["error"] = run.error;
  if (run.cancel_requested && !run_ended(run.state)) j["cancel_requested"] = true;
  return j;
}

void Subscriber::push(std::shared_ptr<const std::string> event) {
  bool was_empty;
  {
    std::lock_guard lock(mutex_);
    was_empty = queue_.empty();
    if (queue_.size() >= capacity_) {
      queue_.pop_front();
      ++dropped_;
    }
    queue_.push_back(std::move(event));
  }
  if (was_empty && wake_) wake_();
}

std::shared_ptr<const std::string> Subscriber::pop() {
  std::lock_guard lock(mutex_);
  if (queue_.empty()) return nullptr;
  auto event = std::move(queue_.front());
  queue_.pop_front();
  return event;
}

std::uint64_t Subscriber::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

RunRecord SessionState::add_run(const std::string& path) {
  std::lock_guard order(order_mutex_);
  RunRecord copy;
  {
    std::lock_guard lock(mutex_);
    RunRecord run;
    run.id = "r" + std::to_string(next_run_++);
    run.path = path;
    run_index_[run.id] = runs_.size();
    runs_.push_back(run);
    copy = run;
  }
  send({{"type", "run"}, {"run", run_to_json(copy)}});
  return copy;
}

bool SessionState::update_run(const std::string& id, const std::function<void(RunRecord&)>& change) {
  std::lock_guard order(order_mutex_);
  RunRecord copy;
  {
    std::lock_guard lock(mutex_);
    auto it = run_index_.find(id);
    if (it == run_index_.end()) return false;
    change(runs_[it->second]);
    copy = runs_[it->second];
  }
  send({{"type", "run"}, {"run", run_to_json(copy)}});
  return true;
}

std::optional<RunRecord> SessionState::run(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = run_index_.find(id);
  if (it == run_index_.end()) return std::nullopt;
  return runs_[it->second];
}

std::vector<RunRecord> SessionState::runs() const {
  std::lock_guard lock(mutex_);
  return runs_;
}

std::shared_ptr<Subscriber> SessionState::subscribe(size_t capacity, std::function<void()> wake) {
  auto subscriber = std::make_shared<Subscriber>(capacity, std::move(wake));
  std::lock_guard lock(mutex_);
  subscribers_.push_back(subscriber);
  return subscriber;
}

size_t SessionState::subscriber_count() const {
  std::lock_guard lock(mutex_);
  size_t n = 0;
  for (const auto& s : subscribers_) n += !s.expired();
  return n;
}

void SessionState::publish(const nlohmann::json& event) {
  std::lock_guard order(order_mutex_);
  send(event);
}

void SessionState::send(const nlohmann::json& event) {
  // Serialized once for every client; the text is shared, not copied per client.
  auto text = std::make_shared<const std::string>(event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  std::vector<std::shared_ptr<Subscriber>> live;
  {
    std::lock_guard lock(mutex_);
    std::erase_if(subscribers_, [](const auto& s) { return s.expired(); });
    for (const auto& s : subscribers_)
      if (auto p = s.lock()) live.push_back(std::move(p));
  }
  // Pushed outside the session's lock: a subscriber's wake-up may take its own locks.
  for (const auto& s : live) s->push(text);
}

}  // namespace circuit::server
