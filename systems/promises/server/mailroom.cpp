#include "mailroom.hpp"

#include <algorithm>
#include <string_view>

namespace seer::promises::server {

void PollStream::set_listener(std::function<void()> listener) {
  std::lock_guard lock(mutex_);
  listener_ = std::move(listener);
}

void PollStream::notify() {
  std::function<void()> listener;
  {
    std::lock_guard lock(mutex_);
    listener = listener_;
  }
  if (listener) listener();
}

void PollStream::push(std::string event) {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    if (events_.size() >= kMaxQueued) {
      ++dropped_;
      return;
    }
    events_.push_back(std::move(event));
  }
  notify();
}

void PollStream::close() {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = true;
  }
  notify();
}

bool PollStream::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

std::size_t PollStream::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

std::deque<std::string> PollStream::take() {
  std::lock_guard lock(mutex_);
  return std::exchange(events_, {});
}

std::shared_ptr<PollStream> Mailroom::open(const std::string& group, const std::string& pid) {
  auto stream = std::make_shared<PollStream>(group, pid);
  std::lock_guard lock(mutex_);
  groups_[group].push_back(stream);
  ++open_;
  return stream;
}

void Mailroom::close(const std::shared_ptr<PollStream>& stream) {
  stream->close();
  std::lock_guard lock(mutex_);
  const auto it = groups_.find(stream->group());
  if (it == groups_.end()) return;
  const auto before = it->second.size();
  std::erase(it->second, stream);
  open_ -= before - it->second.size();
  if (it->second.empty()) groups_.erase(it);
}

void Mailroom::close_all() {
  std::map<std::string, std::vector<std::shared_ptr<PollStream>>, std::less<>> closing;
  {
    std::lock_guard lock(mutex_);
    closing.swap(groups_);
    open_ = 0;
  }
  for (auto& [group, streams] : closing) {
    for (auto& s : streams) s->close();
  }
}

std::size_t Mailroom::open_streams() const {
  std::lock_guard lock(mutex_);
  return open_;
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
  const std::string_view group = rest.substr(0, slash);
  const std::string_view pid =
      slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);

  std::vector<std::shared_ptr<PollStream>> to;
  {
    std::lock_guard lock(mutex_);
    const auto it = groups_.find(group);
    if (it == groups_.end()) return 0;
    std::vector<std::shared_ptr<PollStream>> of_pid;
    for (const auto& s : it->second) {
      if (!pid.empty() && s->pid() == pid) of_pid.push_back(s);
    }
    if (unicast) {
      to = std::move(of_pid);
    } else {
      const auto& candidates = of_pid.empty() ? it->second : of_pid;
      if (!candidates.empty()) to.push_back(candidates[random_() % candidates.size()]);
    }
  }
  // Pushed outside the mailroom's lock: a push tells the stream's connection.
  const std::string event = message.dump();
  for (auto& s : to) s->push(event);
  return to.size();
}

}  // namespace seer::promises::server
