#include "worker.hpp"

#include "caller.hpp"
#include "client.hpp"
#include "messages.hpp"
#include "promises/model/footprint.hpp"
#include "requests.hpp"

#include <algorithm>
#include <map>

namespace seer::promises::design {

namespace {

using json = nlohmann::json;

class Worker {
 public:
  Worker(sim::Env& env, WorkerConfig config)
      : env_(env),
        config_(std::move(config)),
        name_(env.name_of(env.self())),
        address_(unicast_address("workers", name_)),
        caller_(env, config_.deployment, *config_.history, config_.ids, config_.observer, inbox_) {
    if (config_.awaiting) config_.awaiting->forget(name_);  // the last life's waits died with it
  }

  sim::Task<void> run() {
    for (;;) {
      std::optional<sim::Message> m;
      if (!inbox_.empty()) {
        m = std::move(inbox_.front());
        inbox_.pop_front();
      } else if (const auto due = next_chore(); !due) {
        m = co_await env_.receive();
      } else if (*due > env_.now()) {
        m = co_await env_.receive_for(*due - env_.now());
      }
      if (const auto* message = m ? m->as<ProtocolMessage>() : nullptr) {
        const auto kind = message->message.value("kind", "");
        if (kind == "execute") {
          const auto& task = message->message["data"]["task"];
          co_await execute(task["id"].get<std::string>(), task["version"].get<std::int64_t>());
        } else if (kind == "unblock") {
          learned(message->message["data"]["promise"].value("id", ""));
        }
      }
      co_await chores();
    }
  }

 private:
  std::uint64_t below(std::uint64_t n) { return env_.random() % n; }
  sim::Duration ms(std::uint64_t n) { return sim::milliseconds(static_cast<std::int64_t>(n)); }

  // When the next re-registration or heartbeat is due, if any is.
  std::optional<sim::Time> next_chore() const {
    std::optional<sim::Time> due;
    if (!waits_.empty() && !config_.variant.listen_once) due = next_listen_;
    if (!kept_.empty() && (!due || next_beat_ < *due)) due = next_beat_;
    return due;
  }

  sim::Task<void> chores() {
    if (!waits_.empty() && !config_.variant.listen_once && env_.now() >= next_listen_) {
      next_listen_ = env_.now() + kListenAgain;
      const auto ids = waits_;  // listen() may end waits
      for (const auto& id : ids) co_await listen(id);
    }
    if (!kept_.empty() && env_.now() >= next_beat_) {
      next_beat_ = env_.now() + kBeatEvery;
      // One heartbeat per origin: the history's checker partitions operations by origin.
      std::map<std::string, std::vector<std::pair<std::string, std::int64_t>>> by_origin;
      for (const auto& [id, version] : kept_)
        by_origin[std::string(origin_of(id))].emplace_back(id, version);
      for (const auto& [origin, tasks] : by_origin)
        co_await caller_.call(task_heartbeat(name_, tasks));
    }
  }

  // The application starts awaiting `id`: it registers a listener at this worker's address.
  sim::Task<void> await_promise(const std::string& id) {
    if (waits_.empty()) next_listen_ = env_.now() + kListenAgain;
    waits_.insert(id);
    if (config_.awaiting) config_.awaiting->start(name_, id);
    co_await listen(id);
  }

  // Registers (again) the listener on `id`. An answer that shows the promise settled, or that
  // there is nothing to await (404, 422), ends the wait; no answer leaves it open.
  sim::Task<void> listen(const std::string& id) {
    const auto answer = co_await caller_.call(register_listener(id, address_));
    if (!answer) co_return;
    if (answer->status() != 200 || answer->data()["promise"].value("state", "") != "pending") {
      learned(id);
    }
  }

  void learned(const std::string& id) {
    if (waits_.erase(id) && config_.awaiting) config_.awaiting->end(name_, id);
  }

  // A call of the function's on its task. With no answer the worker gives up on the function and
  // the lease runs out (a sweep gives the task to another worker), unless the variant keeps the
  // task alive in case the call took effect.
  sim::Task<std::optional<Answer>> on_task(json request, const std::string& id,
                                           std::int64_t version) {
    auto answer = co_await caller_.call(std::move(request));
    if (!answer && config_.variant.keep_unanswered_tasks) {
      if (kept_.empty()) next_beat_ = env_.now() + kBeatEvery;
      kept_[id] = version;
    }
    co_return answer;
  }

  sim::Task<void> execute(const std::string& id, std::int64_t offered) {
    const auto ttl = 150 + static_cast<std::int64_t>(below(200));
    // An acquire with no answer is tried again, once per server: this execute is the task's only
    // one until its retry, 30 s on (spec §3.4). A reset (the connection was to a server life that
    // has since restarted) is the common case after a restart. Safe: if an earlier attempt took
    // effect, a later one gets 409 and the lease runs out (final's seeds 402 and, on SQL, 345
    // lost executes to resets until the task waited two and three retries). At least twice: with
    // one database (the native target) a reset must still be followed by a reconnect (native's
    // seed 91 lost the execute and its retry to two resets).
    std::optional<Answer> acquired;
    const std::size_t attempts = std::max<std::size_t>(config_.deployment->servers.size(), 2);
    for (std::size_t attempt = 0; !acquired && attempt < attempts; ++attempt) {
      acquired = co_await caller_.call(task_acquire(id, offered, name_, ttl));
    }
    if (!acquired || acquired->status() != 200) co_return;  // someone else has it, or no answer
    const auto version = acquired->data()["task"]["version"].get<std::int64_t>();
    const std::string value = name_ + "-" + std::to_string(++runs_);
    // One time in four the application also starts awaiting a promise of the task's origin.
    if (below(4) == 0) {
      const auto k = below(kChildrenPerOrigin + 1);
      const std::string origin(origin_of(id));
      const std::string awaited = k == 0 ? origin : origin + ":" + std::to_string(k);
      if (awaited != id) co_await await_promise(awaited);
    }
    const auto r = below(100);
    co_await env_.sleep(ms(2 + below(30)));  // the function's work
    if (r < 45) {
      co_await on_task(task_fulfill(id, version, "resolved", value), id, version);
    } else if (r < 65) {
      co_await spawn_and_wait(id, version, value);
    } else if (r < 75) {
      co_await on_task(task_release(id, version), id, version);
    } else if (r < 85) {
      for (int beat = 0; beat < 2; ++beat) {
        co_await env_.sleep(ms(static_cast<std::uint64_t>(ttl / 2)));
        const auto beaten = co_await on_task(task_heartbeat(name_, id, version), id, version);
        if (!beaten) co_return;
      }
      co_await on_task(task_fulfill(id, version, "resolved", value), id, version);
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
    const auto fenced = co_await on_task(fence, id, version);
    if (!fenced || fenced->status() != 200) co_return;
    const auto suspend = task_suspend(id, version, std::vector<std::string>(1, child));
    const auto suspended = co_await on_task(suspend, id, version);
    if (suspended && suspended->status() == 300) {
      co_await on_task(task_fulfill(id, version, "resolved", value), id, version);
    }
  }

  sim::Env& env_;
  WorkerConfig config_;
  std::string name_;
  std::string address_;  // this worker's unicast address, where its listeners point
  std::deque<sim::Message> inbox_;
  Caller caller_;
  int runs_ = 0;
  std::set<std::string> waits_;               // promises the application awaits
  sim::Time next_listen_ = 0;                 // when it re-registers their listeners
  std::map<std::string, std::int64_t> kept_;  // keep_unanswered_tasks: task -> version
  sim::Time next_beat_ = 0;
};

}  // namespace

sim::Task<void> run_worker(sim::Env& env, WorkerConfig config) {
  Worker worker(env, std::move(config));
  co_await worker.run();
}

}  // namespace seer::promises::design
