// feed_cursor: a change feed in the KV store read with a cursor over producer-stamped keys.
//
// Spec. Two producers (`producer1`, `producer2`) publish events into the KV store, each as its own
// key `events/<stamp>-<event>`: the stamp is the producer's clock when it publishes (microseconds,
// zero-padded, so keys sort by time), the event `e-p1-7` (producer 1's seventh). A publish is a
// `create`; one that times out (20 ms) is published again under a fresh stamp. A consumer polls
// the feed every 2 ms: it lists `events/`, processes every key after its cursor in key order (it
// writes `done/<event>`), and then saves the cursor (`feed/cursor`: the last key it processed),
// the usual "read everything since the last checkpoint" loop.
// Invariant `feed-complete`: no published event (its producer was told it was stored) sorts before
// the saved cursor without having been processed ("event e-p1-7 skipped: the feed cursor passed
// it").
// Operations (history): `publish` per event by a producer.
//
// Bug (variant `buggy`): the cursor assumes keys appear in key order. A publish stamped at t
// whose create is slower on the network than the other producer's publish stamped after t lands
// after the consumer listed (and passed) the later key: it sorts before the cursor and is never
// processed.
// Fix (variant `fixed`): the consumer only goes past keys stamped more than 100 ms before its own
// clock (a settle window longer than any publish takes: a producer re-stamps after 20 ms).
// Faults: delay, reorder.
//
// Label. `outdated_read`: the consumer's listing that missed the event (the last one delivered
// before the cursor save that passed it), the producer's create of the event (the store's reply
// send: where it took effect), the cursor save that passed it.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"

#include <cstdio>
#include <memory>
#include <optional>
#include <vector>

namespace seer::bench::explain {

namespace feed_cursor {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr sim::Duration kKvTimeout = sim::milliseconds(20);
constexpr sim::Duration kSettle = sim::milliseconds(100);
const std::string kCursor = "feed/cursor";

// The events their producers were told were stored: (key, event id).
struct Published {
  std::vector<std::pair<std::string, std::string>> events;
  std::uint64_t version = 0;
};

std::string stamp_of(sim::Time t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%012lld", static_cast<long long>(t / 1000));
  return buf;
}

sim::Task<void> producer(sim::Env& env, sim::HistoryRecorder& history, int client,
                         sim::ProcessId kv, int events, std::shared_ptr<Published> published) {
  services::KvClient store(env, kv, kKvTimeout);
  const std::string p = "p" + std::to_string(client + 1);
  for (int n = 1; n <= events; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 3'000'000));
    const std::string event = "e-" + p + "-" + std::to_string(n);
    history.invoke(client, "publish", event);
    bool stored = false;
    for (int attempt = 0; attempt < 5 && !stored; ++attempt) {
      const std::string key = "events/" + stamp_of(env.now()) + "-" + event;
      const nlohmann::json value = {{"event", event}, {"producer", p}};
      const auto r = co_await store.create(key, value);
      if (r.ok()) {
        stored = true;
        published->events.emplace_back(key, event);
        ++published->version;
      }
    }
    history.complete(client, stored ? sim::OpType::kOk : sim::OpType::kInfo, "publish", event);
  }
}

sim::Task<void> consumer(sim::Env& env, sim::ProcessId kv, bool fixed) {
  services::KvClient store(env, kv, kKvTimeout);
  std::string cursor;
  for (;;) {
    co_await env.sleep(sim::milliseconds(2));
    const auto listed = co_await store.list("events/");
    if (!listed.ok()) continue;
    std::string last = cursor;
    bool failed = false;
    for (const auto& k : listed.value) {
      const auto key = k.get<std::string>();
      if (key <= cursor) continue;
      if (fixed && key.substr(7, 12) > stamp_of(env.now() - kSettle)) break;  // not settled yet
      const auto event = key.substr(7 + 12 + 1);
      const nlohmann::json done = {{"key", key}};
      const auto r = co_await store.put("done/" + event, done);
      if (!r.ok()) {
        failed = true;
        break;
      }
      last = key;
    }
    (void)failed;
    if (last == cursor) continue;
    const auto saved = co_await store.put(kCursor, last);
    if (saved.ok()) cursor = last;
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"feed_cursor",
            "producers publish stamped event keys in the KV store; a consumer follows them with "
            "a cursor",
            {"buggy", "fixed"},
            {{"feed-complete", "no published event sorts before the cursor unprocessed"}},
            {{"kv", {"linearizable"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(sim, "kv", services::kv_config("linearizable"));
    sim.add_process("consumer",
                    [k = kv.process, fixed](sim::Env& env) { return consumer(env, k, fixed); },
                    {.crashable = false, .client = false, .pausable = false});
    auto published = std::make_shared<Published>();
    auto& history = sim.history();
    const int events = std::max(1, sim.config().ops / 2);
    for (int p = 0; p < 2; ++p) {
      sim.add_process("producer" + std::to_string(p + 1),
                      [&history, p, k = kv.process, events, published](sim::Env& env) {
                        return producer(env, history, p, k, events, published);
                      },
                      {.crashable = false, .client = true});
    }
    const auto truth = kv.truth;
    sim.add_invariant(
        "feed-complete",
        sim::when_changed(
            [truth, published] {
              return static_cast<std::uint64_t>(truth->revision()) * 1000003 + published->version;
            },
            [truth, published]() -> std::optional<sim::Finding> {
              const auto& c = truth->latest(kCursor);
              if (!c.exists || !c.encoded().is_string()) return std::nullopt;
              const auto cursor = c.encoded().get<std::string>();
              for (const auto& [key, event] : published->events) {
                if (key > cursor || truth->latest("done/" + event).exists) continue;
                return sim::Finding{"event " + event + " skipped: the feed cursor passed it",
                                    {event}};
              }
              return std::nullopt;
            }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the event E. Its create that took effect (the store's reply send with
// status ok to a `create` of a key ending in E), the first cursor save (a `put` of feed/cursor,
// its reply send) whose value sorts at or after E's key, and the consumer's last listing
// delivered before that save's request that does not hold E's key.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string event = between(violation_message(trace), "event ", " skipped");
  if (event.empty()) return {};
  std::string key;
  const TraceEvent* created = nullptr;
  for (const auto& e : trace.events) {
    if (e.kind != EventKind::kSend || e.type != "kv_reply" ||
        payload(e).value("status", "") != "ok") {
      continue;
    }
    const auto* req = request_send_for(trace, e);
    if (!req || payload(*req).value("op", "") != "create") continue;
    const auto k = payload(*req).value("key", "");
    if (k.size() > event.size() &&
        k.compare(k.size() - event.size() - 1, std::string::npos, "-" + event) == 0) {
      key = k;
      created = &e;
    }
  }
  if (!created) return {};
  const TraceEvent* save = nullptr;
  const TraceEvent* save_req = nullptr;
  for (const auto& e : trace.events) {
    if (e.kind != EventKind::kSend || e.type != "kv_reply" ||
        payload(e).value("status", "") != "ok") {
      continue;
    }
    const auto* req = request_send_for(trace, e);
    if (!req || payload(*req).value("op", "") != "put" ||
        payload(*req).value("key", "") != kCursor) {
      continue;
    }
    const auto& v = payload(*req).value("value", nlohmann::json());
    if (v.is_string() && v.get<std::string>() >= key) {
      save = &e;
      save_req = req;
      break;
    }
  }
  if (!save) return {};
  const auto* listing = find_last(
      trace,
      [&](const TraceEvent& e) {
        if (e.kind != EventKind::kDeliver || e.type != "kv_reply" || e.lane != save_req->lane) {
          return false;
        }
        const auto& v = payload(e).value("value", nlohmann::json());
        if (!v.is_array()) return false;
        for (const auto& k : v) {
          if (k == key) return false;
        }
        return true;
      },
      save_req->seq);
  if (!listing) return {};
  return {listing->seq, created->seq, save->seq};
}

}  // namespace feed_cursor

Design make_feed_cursor() {
  Design d;
  d.name = "feed_cursor";
  d.bug =
      "a consumer's cursor over producer-stamped keys passes an event whose create was slower "
      "than a later-stamped one, and the event is never processed";
  d.system = std::make_unique<feed_cursor::System>();
  d.invariant = "feed-complete";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder};
  d.ops = 60;
  d.held_out = true;
  d.label.kinds = {"outdated_read"};
  d.label.key_events = feed_cursor::key_events;
  return d;
}

}  // namespace seer::bench::explain
