#include "worker.hpp"

#include "caller.hpp"
#include "client.hpp"
#include "messages.hpp"
#include "promises/model/footprint.hpp"
#include "requests.hpp"

namespace seer::promises::design {

namespace {

using json = nlohmann::json;

class Worker {
 public:
  Worker(sim::Env& env, WorkerConfig config)
      : env_(env),
        config_(std::move(config)),
        name_(env.name_of(env.self())),
        caller_(env, config_.deployment, *config_.history, config_.ids, config_.observer, inbox_) {}

  sim::Task<void> run() {
    for (;;) {
      sim::Message m;
      if (!inbox_.empty()) {
        m = std::move(inbox_.front());
        inbox_.pop_front();
      } else {
        m = co_await env_.receive();
      }
      const auto* message = m.as<ProtocolMessage>();
      if (!message || message->message.value("kind", "") != "execute") continue;
      const auto& task = message->message["data"]["task"];
      co_await execute(task["id"].get<std::string>(), task["version"].get<std::int64_t>());
    }
  }

 private:
  std::uint64_t below(std::uint64_t n) { return env_.random() % n; }
  sim::Duration ms(std::uint64_t n) { return sim::milliseconds(static_cast<std::int64_t>(n)); }

  sim::Task<void> execute(const std::string& id, std::int64_t offered) {
    const auto ttl = 150 + static_cast<std::int64_t>(below(200));
    const auto acquired = co_await caller_.call(task_acquire(id, offered, name_, ttl));
    if (!acquired || acquired->status() != 200) co_return;  // someone else has it, or no answer
    const auto version = acquired->data()["task"]["version"].get<std::int64_t>();
    const std::string value = name_ + "-" + std::to_string(++runs_);
    const auto r = below(100);
    co_await env_.sleep(ms(2 + below(30)));  // the function's work
    if (r < 45) {
      co_await caller_.call(task_fulfill(id, version, "resolved", value));
    } else if (r < 65) {
      co_await spawn_and_wait(id, version, value);
    } else if (r < 75) {
      co_await caller_.call(task_release(id, version));
    } else if (r < 85) {
      for (int beat = 0; beat < 2; ++beat) {
        co_await env_.sleep(ms(static_cast<std::uint64_t>(ttl / 2)));
        const auto beat_request = task_heartbeat(name_, id, version);
        if (!co_await caller_.call(beat_request)) co_return;
      }
      co_await caller_.call(task_fulfill(id, version, "resolved", value));
    }
    // else: the worker vanishes with the task; its lease expires.
  }

  // ctx.rpc then yield: create a child under the task's fence, then suspend on it; a 300 means
  // the child is already done, so the function goes on and finishes.
  sim::Task<void> spawn_and_wait(const std::string& id, std::int64_t version,
                                 const std::string& value) {
    const std::string child =
        std::string(origin_of(id)) + ":" + std::to_string(1 + below(kChildrenPerOrigin));
    if (child == id) co_return;
    const std::int64_t now = model_time(env_.now());
    const json tags = {{"resonate:target", kWorkers}};
    const auto fence = task_fence_create(
        id, version,
        promise_create(child, now + 100 + static_cast<std::int64_t>(below(1000)), tags));
    const auto fenced = co_await caller_.call(fence);
    if (!fenced || fenced->status() != 200) co_return;
    const auto suspend = task_suspend(id, version, std::vector<std::string>(1, child));
    const auto suspended = co_await caller_.call(suspend);
    if (suspended && suspended->status() == 300) {
      co_await caller_.call(task_fulfill(id, version, "resolved", value));
    }
  }

  sim::Env& env_;
  WorkerConfig config_;
  std::string name_;
  std::deque<sim::Message> inbox_;
  Caller caller_;
  int runs_ = 0;
};

}  // namespace

sim::Task<void> run_worker(sim::Env& env, WorkerConfig config) {
  Worker worker(env, std::move(config));
  co_await worker.run();
}

}  // namespace seer::promises::design
