// build_waiter: developers wait for their builds by checking for the result and then
// registering to be told, and the builder tells whoever is registered when it finishes.
//
// Spec. Three developers (`dev1`..`dev3`, clients) submit builds (`b-1`, `b-2`, ...) to a builder
// (`builder`, own process and messages), which runs them one at a time (2-6 ms each). When a build
// finishes the builder writes its result in the KV store (`result/<build>`), lists the
// registered waiters (`waiters/<build>/`) and sends each a `ready` message. A developer's
// `build --wait` looks for the result (`get result/<build>`); if it is not there yet it
// registers (`create waiters/<build>/<dev>`) and waits up to 150 ms for `ready`, then gives up
// ("timed out waiting for b-7").
// Invariant `finished-build-not-abandoned`: no developer gives up waiting for a build that had
// finished before they registered ("dev2 gave up waiting for build b-7, which had finished
// before dev2 registered"). A build that finishes later may have its `ready` still in flight
// when the developer gives up: slow, not lost.
// Operations (history): `wait` per build by its developer.
//
// Bug (variant `buggy`): check, then register (a lost wakeup). The build can finish between the
// two: the developer's check misses the result, the builder's listing (right after the result)
// misses the registration still on its way, nobody sends `ready`, and the developer waits for
// nothing until it gives up.
// Fix (variant `fixed`): register first, then check. A check that misses the result was served
// before the result's write, so the registration (acknowledged before the check was sent) is in
// the builder's later listing.
// Faults: delay, reorder.
//
// Label. `outdated_read`: the developer's check (its delivery: not found, fresh when served), the
// builder's result write that changed it (the store's reply send), the builder's listing that
// missed the registration (the store's reply send), and the registration decided on the check
// (the store's reply send: where it took effect).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>

namespace seer::bench::explain {

namespace build_waiter {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kDevs = 3;
constexpr sim::Duration kKvTimeout = sim::milliseconds(50);
constexpr sim::Duration kWaitFor = sim::milliseconds(150);

struct Build : sim::Payload {
  explicit Build(std::string b) : build(std::move(b)) {}
  std::string build;
  std::string_view type() const override { return "build"; }
  nlohmann::json to_json() const override { return {{"build", build}}; }
};

struct Ready : sim::Payload {
  explicit Ready(std::string b) : build(std::move(b)) {}
  std::string build;
  std::string_view type() const override { return "ready"; }
  nlohmann::json to_json() const override { return {{"build", build}}; }
};

// The builds still to submit and the give-ups the developers saw (the test's view, not the
// design's state).
struct Workload {
  int remaining = 0;
  int next_build = 0;
};
struct GaveUp {
  std::string dev;
  std::string build;
};

sim::Task<void> builder(sim::Env& env, sim::ProcessId kv,
                        std::shared_ptr<const std::map<std::string, sim::ProcessId>> devs) {
  std::deque<sim::Message> inbox;  // build requests that arrive while it talks to the store
  services::KvClient store(env, kv, kKvTimeout, &inbox);
  for (;;) {
    sim::Message m;
    if (!inbox.empty()) {
      m = std::move(inbox.front());
      inbox.pop_front();
    } else {
      m = co_await env.receive();
    }
    const auto* b = m.as<Build>();
    if (!b) continue;
    const std::string build = b->build;
    co_await env.sleep(sim::milliseconds(2) + static_cast<sim::Duration>(env.random() % 4'000'000));
    const nlohmann::json result = {{"artifact", "artifacts/" + build + ".tar"}, {"ok", true}};
    while (!(co_await store.put("result/" + build, result)).ok()) {
    }
    services::KvResult waiters;
    do {
      waiters = co_await store.list("waiters/" + build + "/");
    } while (!waiters.ok());
    for (const auto& key : waiters.value) {
      const auto name = key.get<std::string>().substr(("waiters/" + build + "/").size());
      const auto it = devs->find(name);
      if (it != devs->end()) env.send(it->second, sim::make_payload<Ready>(build));
    }
  }
}

sim::Task<void> dev(sim::Env& env, sim::HistoryRecorder& history, int index, sim::ProcessId kv,
                    sim::ProcessId builder_id, std::shared_ptr<Workload> work,
                    std::shared_ptr<std::vector<GaveUp>> gave_up, bool fixed) {
  std::deque<sim::Message> inbox;  // a `ready` that arrives while it talks to the store
  services::KvClient store(env, kv, kKvTimeout, &inbox);
  const std::string me = env.name_of(env.self());
  while (work->remaining > 0) {
    --work->remaining;
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 3'000'000));
    const std::string build = "b-" + std::to_string(++work->next_build);
    history.invoke(index, "wait", build);
    env.send(builder_id, sim::make_payload<Build>(build));
    co_await env.sleep(static_cast<sim::Duration>(env.random() % 6'000'000));
    const std::string key = "waiters/" + build + "/" + me;
    const nlohmann::json registration = {{"dev", me}};
    bool done = false;
    if (fixed) {
      while ((co_await store.create(key, registration)).timed_out) {
      }
      services::KvResult check;
      do {
        check = co_await store.get("result/" + build);
      } while (check.timed_out);
      done = check.ok();
    } else {
      services::KvResult check;
      do {
        check = co_await store.get("result/" + build);
      } while (check.timed_out);
      done = check.ok();
      if (!done) {
        while ((co_await store.create(key, registration)).timed_out) {
        }
      }
    }
    for (; !inbox.empty(); inbox.pop_front()) {
      const auto* r = inbox.front().as<Ready>();
      if (r && r->build == build) done = true;
    }
    const sim::Time deadline = env.now() + kWaitFor;
    while (!done) {
      const sim::Duration left = deadline - env.now();
      if (left <= 0) break;
      const auto m = co_await env.receive_for(left);
      if (!m) break;
      const auto* r = m->as<Ready>();
      if (r && r->build == build) done = true;
    }
    if (!done) gave_up->push_back({me, build});
    history.complete(index, done ? sim::OpType::kOk : sim::OpType::kFail, "wait", build,
                     done ? std::string() : "timed out waiting for " + build);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"build_waiter",
            "developers check for their build's result, else register to be told when it "
            "finishes",
            {"buggy", "fixed"},
            {{"finished-build-not-abandoned",
              "no developer gives up waiting for a build that had finished before they "
              "registered"}},
            {{"kv", {"linearizable"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(sim, "kv", services::kv_config("linearizable"));
    auto devs = std::make_shared<std::map<std::string, sim::ProcessId>>();
    const auto builder_id = sim.add_process(
        "builder",
        [k = kv.process, devs](sim::Env& env) {
          return builder(env, k,
                         std::shared_ptr<const std::map<std::string, sim::ProcessId>>(devs));
        },
        {.crashable = false, .client = false});
    auto work = std::make_shared<Workload>();
    work->remaining = sim.config().ops;
    auto gave_up = std::make_shared<std::vector<GaveUp>>();
    auto& history = sim.history();
    for (int d = 1; d <= kDevs; ++d) {
      const std::string name = "dev" + std::to_string(d);
      (*devs)[name] = sim.add_process(
          name,
          [&history, d, k = kv.process, builder_id, work, gave_up, fixed](sim::Env& env) {
            return dev(env, history, d - 1, k, builder_id, work, gave_up, fixed);
          },
          {.crashable = false, .client = true});
    }
    auto checked = std::make_shared<std::size_t>(0);
    sim.add_invariant(
        "finished-build-not-abandoned",
        [truth = kv.truth, gave_up, checked]() -> std::optional<sim::Finding> {
          if (*checked == gave_up->size()) return std::nullopt;
          *checked = gave_up->size();
          for (const auto& g : *gave_up) {
            // Finished before the developer registered: no notification was ever on its way
            // (a build finishing later may still have its `ready` in flight).
            const auto& result = truth->latest("result/" + g.build);
            const auto& registration = truth->latest("waiters/" + g.build + "/" + g.dev);
            if (result.exists && registration.exists && result.revision < registration.revision) {
              return sim::Finding{g.dev + " gave up waiting for build " + g.build +
                                      ", which had finished before " + g.dev + " registered",
                                  {g.build}};
            }
          }
          return std::nullopt;
        });
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the developer D and the build B. D's check of `result/B` (its delivery of the
// kv reply to the `get`, not found); the builder's put of `result/B` (the store's reply send); the
// builder's list of `waiters/B/` (the store's reply send); D's create of `waiters/B/D` (the
// store's reply send).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string dev = between(msg, "", " gave up waiting for build ");
  const std::string build = between(msg, " gave up waiting for build ", ", which");
  if (dev.empty() || build.empty()) return {};
  const int d_lane = lane_of(trace, dev);
  const int b_lane = lane_of(trace, "builder");
  const auto request = [&](int lane, const std::string& op, const std::string& key) {
    // The last such request: an earlier one timed out and was asked again.
    return find_last(trace, [&](const TraceEvent& e) {
      return e.kind == EventKind::kSend && e.lane == lane && e.type == "kv_request" &&
             payload(e).value("op", "") == op && payload(e).value("key", "") == key;
    });
  };
  const auto* check = request(d_lane, "get", "result/" + build);
  const auto* put = request(b_lane, "put", "result/" + build);
  const auto* list = request(b_lane, "list", "waiters/" + build + "/");
  const auto* create = request(d_lane, "create", "waiters/" + build + "/" + dev);
  if (!check || !put || !list || !create) return {};
  const auto* check_reply = reply_send_for(trace, *check);
  const auto* check_delivery = check_reply ? delivery_of(trace, *check_reply) : nullptr;
  const auto* put_reply = reply_send_for(trace, *put);
  const auto* list_reply = reply_send_for(trace, *list);
  const auto* create_reply = reply_send_for(trace, *create);
  if (!check_delivery || !put_reply || !list_reply || !create_reply) return {};
  return {check_delivery->seq, put_reply->seq, list_reply->seq, create_reply->seq};
}

}  // namespace build_waiter

Design make_build_waiter() {
  Design d;
  d.name = "build_waiter";
  d.bug =
      "a developer checks for the build's result and then registers to be told; a build that "
      "finishes in between tells nobody (a lost wakeup)";
  d.system = std::make_unique<build_waiter::System>();
  d.invariant = "finished-build-not-abandoned";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"outdated_read"};
  d.label.key_events = build_waiter::key_events;
  return d;
}

}  // namespace seer::bench::explain
