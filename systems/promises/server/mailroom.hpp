// Where the server's messages (spec §7: execute, unblock) go in production: the poll streams that
// workers and clients hold open (GET /poll/{group}/{pid}, server-sent events). Addresses (spec §8):
//   poll://uni@{group}/{pid}  every stream of that process;
//   poll://any@{group}/{pid}  a stream of that process if it has one, else any in the group;
//   poll://any@{group}        one stream in the group, chosen at random.
// A message for an address nobody listens at is dropped, as a poll server's is: the task it names
// is retried from the store when its timeout comes.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace seer::promises::server {

// One open poll stream. Thread-safe.
class PollStream {
 public:
  PollStream(std::string group, std::string pid) : group_(std::move(group)), pid_(std::move(pid)) {}
  const std::string& group() const { return group_; }
  const std::string& pid() const { return pid_; }

  void push(std::string event);
  void close();
  // The next event, waiting up to `wait`; nullopt on timeout. Throws nothing; returns nullopt
  // at once once closed (check closed()).
  std::optional<std::string> next(std::chrono::milliseconds wait);
  bool closed() const;

 private:
  const std::string group_, pid_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::string> events_;
  bool closed_ = false;
};

class Mailroom {
 public:
  std::shared_ptr<PollStream> open(const std::string& group, const std::string& pid);
  void close(const std::shared_ptr<PollStream>& stream);
  // Sends `message` to the streams `address` leads to; the number of streams it went to.
  std::size_t deliver(const std::string& address, const nlohmann::json& message);
  // Closes every stream (shutdown): their clients see the end and reconnect elsewhere.
  void close_all();
  std::size_t open_streams() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<PollStream>> streams_;
  std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace seer::promises::server
