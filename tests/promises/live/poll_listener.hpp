// A test's poll streams on a live seer-resonate (GET /poll/{group}/{pid}, server-sent events): one
// thread per stream collects every `data:` message, so a test can compare what the server sent
// with what the model says each step emits.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Client;
}

namespace seer::promises::live {

class PollListener {
 public:
  // Opens `paths` (e.g. "/poll/targets/t1") on 127.0.0.1:`port` and returns once the server has
  // answered each (it has registered the stream). Throws std::runtime_error after 5 s.
  PollListener(int port, const std::vector<std::string>& paths);
  ~PollListener();  // closes the streams
  PollListener(const PollListener&) = delete;
  PollListener& operator=(const PollListener&) = delete;

  // The messages received on `path` so far, once there are at least `count` (or `wait` passed).
  std::vector<nlohmann::json> received(const std::string& path, std::size_t count,
                                       std::chrono::milliseconds wait);

 private:
  struct Stream {
    std::unique_ptr<httplib::Client> client;
    std::thread reader;
    std::string pending;  // bytes after the last complete event
    std::vector<nlohmann::json> messages;
    bool open = false;
  };
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, Stream> streams_;
};

}  // namespace seer::promises::live
