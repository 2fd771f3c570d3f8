// The real runtime's Env: one process, run on one thread by an event loop. Other threads hand it
// messages with post() (an HTTP front end, say); what it sends goes to the host's outbox; time is
// the machine's monotonic clock and randomness comes from the operating system. The algorithm
// code it runs is the code the simulator runs: neither knows which Env it has.
#pragma once

#include "seer/sim/env.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <string>

namespace seer::runtime {

class LoopEnv final : public sim::Env {
 public:
  // Called on the loop's thread for every send().
  using Outbox = std::function<void(sim::ProcessId to, sim::PayloadPtr body)>;

  // `storage`, if given, is the process's local disk; without one, storage() throws (a process
  // that keeps its state in a database has none).
  LoopEnv(sim::ProcessId self, std::string name, Outbox outbox, sim::Storage* storage = nullptr);

  sim::ProcessId self() const override { return self_; }
  // The process's own name, a name given by set_names, or "peer".
  const std::string& name_of(sim::ProcessId id) const override;
  // The other processes' names (a deployment's config). Set before run().
  void set_names(std::map<sim::ProcessId, std::string> names) { names_ = std::move(names); }
  // Nanoseconds of the monotonic clock since this Env was made (or since clock_start()).
  sim::Time now() const override;
  // Where now() counts from. Several Envs of one process set one start, so they share one clock.
  std::chrono::steady_clock::time_point clock_start() const { return start_; }
  void set_clock_start(std::chrono::steady_clock::time_point start) { start_ = start; }
  std::uint64_t random() override { return random_(); }
  sim::Storage& storage() override;

  // Thread-safe: queues a message for the process from `from`.
  void post(sim::ProcessId from, sim::PayloadPtr body);
  // Runs `process` on the calling thread until it returns or stop() is called. A stop takes effect
  // only where the process waits (for a message, a sleep): never in the middle of its work between
  // two waits. Rethrows what the process threw.
  void run(sim::Task<void> process);
  // Thread-safe: makes run() return at the process's next wait.
  void stop();
  // Called on the loop's thread with each message as the process takes it from the inbox, before
  // the process sees it; a message it refuses is dropped. A host uses it to withdraw a message it
  // has given up on (a request already answered 503) that the process has not yet started on.
  // Set before run().
  using Admit = std::function<bool(const sim::Message&)>;
  void set_admit(Admit admit) { admit_ = std::move(admit); }

 protected:
  // A real process records no code sites (`at`): it keeps no trace.
  void send_from(sim::CodeSite, sim::ProcessId to, sim::PayloadPtr body) override {
    outbox_(to, std::move(body));
  }
  bool try_receive(std::optional<sim::Message>& out) override;
  void park_receive(std::coroutine_handle<> h, sim::Duration timeout,
                    std::optional<sim::Message>* out, sim::CodeSite at) override;
  void park_sleep(std::coroutine_handle<> h, sim::Duration d, sim::CodeSite at) override;
  void park_sync(std::coroutine_handle<> h, sim::CodeSite at) override;

 private:
  struct Parked {
    std::coroutine_handle<> handle;
    std::optional<sim::Message>* out = nullptr;  // a receive; null: a sleep or a sync
    bool has_deadline = false;
    std::chrono::steady_clock::time_point deadline;
  };
  void park(std::coroutine_handle<> h, std::optional<sim::Message>* out, sim::Duration timeout);
  // The first message of the inbox admit_ takes (refused ones are dropped); mutex_ held.
  std::optional<sim::Message> take_admitted();

  sim::ProcessId self_;
  std::string name_;
  std::map<sim::ProcessId, std::string> names_;
  Outbox outbox_;
  Admit admit_;
  sim::Storage* storage_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::mt19937_64 random_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<sim::Message> inbox_;
  std::uint64_t next_message_id_ = 1;
  bool stopping_ = false;
  std::optional<Parked> parked_;  // touched only on the loop's thread
};

}  // namespace seer::runtime
