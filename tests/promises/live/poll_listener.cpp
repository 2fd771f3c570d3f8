#include "poll_listener.hpp"

#include <httplib.h>

#include <stdexcept>

namespace seer::promises::live {

PollListener::PollListener(int port, const std::vector<std::string>& paths) {
  std::unique_lock lock(mutex_);
  for (const auto& path : paths) {
    Stream& s = streams_[path];
    s.client = std::make_unique<httplib::Client>("127.0.0.1", port);
    s.client->set_tcp_nodelay(true);
    s.client->set_read_timeout(std::chrono::seconds(60));
    s.reader = std::thread([this, path, client = s.client.get()] {
      client->Get(
          path,
          [this, path](const httplib::Response&) {
            std::lock_guard l(mutex_);
            streams_[path].open = true;
            changed_.notify_all();
            return true;
          },
          [this, path](const char* data, std::size_t length) {
            std::lock_guard l(mutex_);
            Stream& st = streams_[path];
            st.pending.append(data, length);
            for (auto end = st.pending.find("\n\n"); end != std::string::npos;
                 end = st.pending.find("\n\n")) {
              const std::string event = st.pending.substr(0, end);
              st.pending.erase(0, end + 2);
              if (event.rfind("data: ", 0) == 0) {
                st.messages.push_back(nlohmann::json::parse(event.substr(6), nullptr, false));
              }
            }
            changed_.notify_all();
            return true;
          });
    });
  }
  const bool all_open = changed_.wait_for(lock, std::chrono::seconds(5), [this] {
    for (const auto& [path, s] : streams_) {
      if (!s.open) return false;
    }
    return true;
  });
  if (!all_open) {
    lock.unlock();
    for (auto& [path, s] : streams_) s.client->stop();
    for (auto& [path, s] : streams_) s.reader.join();
    throw std::runtime_error("poll streams did not open within 5 s");
  }
}

PollListener::~PollListener() {
  for (auto& [path, s] : streams_) s.client->stop();
  for (auto& [path, s] : streams_) s.reader.join();
}

std::vector<nlohmann::json> PollListener::received(const std::string& path, std::size_t count,
                                                   std::chrono::milliseconds wait) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, wait, [&] { return streams_[path].messages.size() >= count; });
  return streams_[path].messages;
}

}  // namespace seer::promises::live
