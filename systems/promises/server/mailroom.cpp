#include "mailroom.hpp"

#include <algorithm>
#include <string_view>

namespace seer::promises::server {

void PollStream::push(std::string event) {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    events_.push_back(std::move(event));
  }
  ready_.notify_one();
}

void PollStream::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  ready_.notify_all();
}

bool PollStream::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

std::optional<std::string> PollStream::next(std::chrono::milliseconds wait) {
  std::unique_lock lock(mutex_);
  ready_.wait_for(lock, wait, [&] { return closed_ || !events_.empty(); });
  if (closed_ || events_.empty()) return std::nullopt;
  auto event = std::move(events_.front());
  events_.pop_front();
  return event;
}

std::shared_ptr<PollStream> Mailroom::open(const std::string& group, const std::string& pid) {
  auto stream = std::make_shared<PollStream>(group, pid);
  std::lock_guard lock(mutex_);
  streams_.push_back(stream);
  return stream;
}

void Mailroom::close(const std::shared_ptr<PollStream>& stream) {
  stream->close();
  std::lock_guard lock(mutex_);
  std::erase(streams_, stream);
}

void Mailroom::close_all() {
  std::lock_guard lock(mutex_);
  for (auto& s : streams_) s->close();
  streams_.clear();
}

std::size_t Mailroom::open_streams() const {
  std::lock_guard lock(mutex_);
  return streams_.size();
}

std::size_t Mailroom::deliver(const std::string& address, const nlohmann::json& message) {
  std::string_view rest(address);
  bool unicast = false;
  if (rest.starts_with("poll://uni@")) {
    unicast = true;
    rest.remove_prefix(11);
  } else if (rest.starts_with("poll://any@")) {
    rest.remove_prefix(11);
  } else {
    return 0;  // not a poll address: nobody here listens at it
  }
  const auto slash = rest.find('/');
  const std::string group(rest.substr(0, slash));
  const std::string pid(slash == std::string_view::npos ? "" : rest.substr(slash + 1));
  const std::string event = message.dump();

  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<PollStream>> of_pid, of_group;
  for (const auto& s : streams_) {
    if (s->group() != group) continue;
    of_group.push_back(s);
    if (!pid.empty() && s->pid() == pid) of_pid.push_back(s);
  }
  if (unicast) {
    for (auto& s : of_pid) s->push(event);
    return of_pid.size();
  }
  const auto& candidates = of_pid.empty() ? of_group : of_pid;
  if (candidates.empty()) return 0;
  candidates[random_() % candidates.size()]->push(event);
  return 1;
}

}  // namespace seer::promises::server
