#include "client.hpp"

#include "caller.hpp"
#include "requests.hpp"

#include <string>
#include <vector>

namespace seer::promises::design {

namespace {

using json = nlohmann::json;

std::uint64_t below(sim::Env& env, std::uint64_t n) {
  return env.random() % n;
}

std::string origin_name(std::uint64_t k) {
  return "o" + std::to_string(k + 1);
}

// A promise id from the pool: an origin's root, or one of its children.
std::string pick_id(sim::Env& env, const std::string& origin) {
  const auto child = below(env, kChildrenPerOrigin + 2);
  return child < 2 ? origin : origin + ":" + std::to_string(child - 1);
}

json pick_tags(sim::Env& env) {
  const auto r = below(env, 100);
  if (r < 35) return {{"resonate:target", kWorkers}};
  if (r < 50) return {{"resonate:scope", "global"}};
  if (r < 60) return {{"resonate:timer", "true"}, {"resonate:target", kWorkers}};
  return json::object();
}

const char* pick_settle_state(sim::Env& env) {
  static const char* kStates[] = {"resolved", "rejected", "rejected_canceled"};
  return kStates[below(env, 3)];
}

class Client {
 public:
  Client(sim::Env& env, ClientConfig config)
      : env_(env),
        config_(std::move(config)),
        name_(env.name_of(env.self())),
        caller_(env, config_.deployment, *config_.history, config_.ids, config_.observer, inbox_) {}

  sim::Task<void> run() {
    while (*config_.next_op < config_.ops) {
      const int n = (*config_.next_op)++;
      co_await env_.sleep(sim::milliseconds(1) +
                          static_cast<sim::Duration>(below(env_, 20'000'000)));
      co_await one_op(n);
      inbox_.clear();  // unblock messages: the SDK would resolve a local future; nothing to do here
    }
  }

 private:
  sim::Task<void> one_op(int n) {
    const std::string origin = origin_name(below(env_, kOrigins));
    const std::string id = pick_id(env_, origin);
    const std::int64_t now = model_time(env_.now());
    const std::string value = name_ + "-" + std::to_string(n);
    const auto r = below(env_, 100);
    if (r < 22) {
      // One draw per statement: the order of a call's arguments is unspecified, and a seed must
      // mean the same run under every compiler.
      const std::int64_t timeout_at = pick_timeout(now, 30);
      const json tags = pick_tags(env_);
      co_await retrying(promise_create(id, timeout_at, tags, value));
    } else if (r < 40) {
      co_await retrying(promise_settle(id, pick_settle_state(env_), value));
    } else if (r < 58) {
      co_await retrying(promise_get(id));
    } else if (r < 65) {
      co_await retrying(register_listener(id, unicast_address("clients", name_)));
    } else if (r < 71) {
      std::string awaiter = pick_id(env_, origin);
      if (awaiter == id) awaiter = id == origin ? origin + ":1" : origin;
      co_await retrying(register_callback(id, awaiter));
    } else if (r < 79) {
      const auto ttl = 100 + static_cast<std::int64_t>(below(env_, 300));
      const auto create =
          promise_create(id, pick_timeout(now, 200), {{"resonate:target", kWorkers}});
      const auto answer = co_await caller_.call(task_create(name_, ttl, create));
      if (answer && answer->status() == 200 && answer->data()["task"]["state"] == "acquired") {
        held_.push_back({id, answer->data()["task"]["version"].get<std::int64_t>()});
      }
    } else if (r < 85 && !held_.empty()) {
      co_await on_held_task(value);
    } else if (r < 90) {
      co_await retrying(task_by_id("task.get", id));
    } else if (r < 95) {
      co_await retrying(task_by_id("task.halt", id));
    } else {
      co_await caller_.call(task_by_id("task.continue", id));
    }
  }

  // A promise's timeout: most are due within 1.5 s, so the sweeps must time them out
  // (timeouts-settle); one in four is a long-lived workflow's, due long after the run and its heal,
  // which only the tasks' progress settles (tasks-progress).
  std::int64_t pick_timeout(std::int64_t now, std::int64_t least) {
    if (below(env_, 4) == 0) return now + kLongTimeoutMs;
    return now + least + static_cast<std::int64_t>(below(env_, 1500));
  }

  // Requests the protocol makes idempotent (by id, spec §5.0) are sent again once after a timeout,
  // after a short pause; each attempt is its own operation in the history. (Two retries made
  // partition-heavy histories of 40 outcome-unknown operations per origin, past the checker's
  // budget: seed 480.)
  // The request is copied back from the one sent only for the retry (rare), not before each first
  // attempt.
  sim::Task<void> retrying(nlohmann::json request) {
    std::shared_ptr<const nlohmann::json> sent;
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (attempt > 0) {
        co_await env_.sleep(sim::milliseconds(5) +
                            static_cast<sim::Duration>(below(env_, 15'000'000)));
        request = *sent;
      }
      if (co_await caller_.call(std::move(request), &sent)) co_return;
    }
  }

  // A task this client acquired with task.create: heartbeat it, or finish it one way or another.
  sim::Task<void> on_held_task(const std::string& value) {
    const auto i = below(env_, held_.size());
    const std::string id = held_[i].first;
    const std::int64_t version = held_[i].second;
    const auto r = below(env_, 3);
    if (r == 0) {
      const auto request = task_heartbeat(name_, id, version);
      co_await caller_.call(request);
      co_return;
    }
    held_.erase(held_.begin() + static_cast<std::ptrdiff_t>(i));
    if (r == 1) {
      co_await caller_.call(task_fulfill(id, version, "resolved", value));
    } else {
      co_await caller_.call(task_release(id, version));
    }
  }

  sim::Env& env_;
  ClientConfig config_;
  std::string name_;
  std::deque<sim::Message> inbox_;
  Caller caller_;
  std::vector<std::pair<std::string, std::int64_t>> held_;
};

}  // namespace

sim::Task<void> run_client(sim::Env& env, ClientConfig config) {
  Client client(env, std::move(config));
  co_await client.run();
}

}  // namespace seer::promises::design
