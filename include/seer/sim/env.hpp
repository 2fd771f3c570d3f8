// Env: everything an algorithm may use to touch the world. The simulator implements it with virtual
// time, a faulty network and crash-prone disks; a real runtime implements it with sockets, clocks
// and files. An algorithm written against Env cannot tell which one it runs on.
#pragma once

#include "seer/sim/code_site.hpp"
#include "seer/sim/message.hpp"
#include "seer/sim/storage.hpp"
#include "seer/sim/task.hpp"
#include "seer/sim/time.hpp"

#include <coroutine>
#include <cstdint>
#include <optional>
#include <string>

namespace seer::sim {

class Env {
 public:
  virtual ~Env() = default;

  virtual ProcessId self() const = 0;
  virtual const std::string& name_of(ProcessId id) const = 0;
  // The local clock: may be skewed and drift relative to other processes' clocks.
  virtual Time now() const = 0;
  // Uniform 64-bit random number, from the run's seed in simulation.
  virtual std::uint64_t random() = 0;
  // `at`, here and below, is left to its default: the caller's line (code_site.hpp). Inlined:
  // called out of line, this wrapper cost a simulated run 0.25 % of its instructions.
  [[gnu::always_inline]] void send(ProcessId to, PayloadPtr body, CodeSite at = CodeSite::here()) {
    send_from(at, to, std::move(body));
  }
  virtual Storage& storage() = 0;

  // co_await env.receive(): the next message. co_await env.receive_for(d): the next message, or
  // nullopt if none arrives within d of local time.
  struct ReceiveAwaiter {
    Env* env;
    Duration timeout;  // < 0: wait forever
    CodeSite at;
    std::optional<Message> result;
    bool await_ready() { return env->try_receive(result); }
    void await_suspend(std::coroutine_handle<> h) { env->park_receive(h, timeout, &result, at); }
    std::optional<Message> await_resume() { return std::move(result); }
  };
  ReceiveAwaiter receive_for(Duration timeout, CodeSite at = CodeSite::here()) {
    return {this, timeout, at, std::nullopt};
  }
  struct ReceiveAnyAwaiter : ReceiveAwaiter {
    Message await_resume() { return std::move(*result); }
  };
  ReceiveAnyAwaiter receive(CodeSite at = CodeSite::here()) {
    return {{this, -1, at, std::nullopt}};
  }

  // co_await env.sleep(d): resume after d of local time.
  struct SleepAwaiter {
    Env* env;
    Duration duration;
    CodeSite at;
    bool await_ready() { return false; }
    void await_suspend(std::coroutine_handle<> h) { env->park_sleep(h, duration, at); }
    void await_resume() {}
  };
  SleepAwaiter sleep(Duration d, CodeSite at = CodeSite::here()) { return {this, d, at}; }

  // co_await env.sync(): make every write so far durable. Takes (virtual) time like an fsync does.
  struct SyncAwaiter {
    Env* env;
    CodeSite at;
    bool await_ready() { return false; }
    void await_suspend(std::coroutine_handle<> h) { env->park_sync(h, at); }
    void await_resume() {}
  };
  SyncAwaiter sync(CodeSite at = CodeSite::here()) { return {this, at}; }

 protected:
  // Implementation hooks. `at` is the line of the algorithm's call (a simulator records it in the
  // call's events; a real runtime may ignore it). try_receive fills `out` and returns true if a
  // message is ready.
  virtual void send_from(CodeSite at, ProcessId to, PayloadPtr body) = 0;
  virtual bool try_receive(std::optional<Message>& out) = 0;
  virtual void park_receive(std::coroutine_handle<> h, Duration timeout,
                            std::optional<Message>* out, CodeSite at) = 0;
  virtual void park_sleep(std::coroutine_handle<> h, Duration d, CodeSite at) = 0;
  virtual void park_sync(std::coroutine_handle<> h, CodeSite at) = 0;
};

}  // namespace seer::sim
