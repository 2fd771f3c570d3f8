// Where the server's messages (spec §7: execute, unblock) go in production: the poll streams that
// workers and clients hold open (GET /poll/{group}/{pid}, server-sent events). Addresses (spec §8):
//   poll://uni@{group}/{pid}  every stream of that process;
//   poll://any@{group}/{pid}  a stream of that process if it has one, else any in the group;
//   poll://any@{group}        one stream in the group, chosen at random.
// A message for an address nobody listens at is dropped, as a poll server's is: the task it names
// is retried from the store when its timeout comes.
#pragma once

#include <nlohmann/json.hpp>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

namespace seer::promises::server {

// One open poll stream: a queue of events and whom to tell when it changes. Thread-safe. Nothing
// waits on it: the connection that holds it is told (its listener) and takes the events.
class PollStream {
 public:
  // Events queued and not yet taken beyond this are dropped (a client that stopped reading): the
  // tasks they name are sent again when their timeouts come.
  static constexpr std::size_t kMaxQueued = 1024;

  PollStream(std::string group, std::string pid) : group_(std::move(group)), pid_(std::move(pid)) {}
  const std::string& group() const { return group_; }
  const std::string& pid() const { return pid_; }

  // Called, on the thread that pushes or closes and with no lock held, after each push and after
  // close(). It must not block (it posts to the connection's own executor).
  void set_listener(std::function<void()> listener);
  void push(std::string event);
  void close();
  // The events queued so far, oldest first.
  std::deque<std::string> take();
  bool closed() const;
  std::size_t dropped() const;

 private:
  void notify();
  const std::string group_, pid_;
  mutable std::mutex mutex_;
  std::function<void()> listener_;
  std::deque<std::string> events_;
  std::size_t dropped_ = 0;
  bool closed_ = false;
};

class Mailroom {
 public:
  std::shared_ptr<PollStream> open(const std::string& group, const std::string& pid);
  void close(const std::shared_ptr<PollStream>& stream);
  // Sends `message` to the streams `address` leads to; the number of streams it went to. Its cost
  // is the group's streams, not every stream's.
  std::size_t deliver(const std::string& address, const nlohmann::json& message);
  // Closes every stream (shutdown): their clients see the end and reconnect elsewhere.
  void close_all();
  std::size_t open_streams() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::vector<std::shared_ptr<PollStream>>, std::less<>> groups_;
  std::size_t open_ = 0;
  std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace seer::promises::server
