// list_merge: a shopping list on two replicas that gossip their state, merged by a version number.
//
// Spec. Two replicas (`r1`, `r2`, the design's own processes, the list on local disk) each hold a
// shared shopping list `{version, items}`. Two clients (`c1`, `c2`) add items (`i-1-1`, `i-2-1`,
// ...), each to a replica picked at random: `add {req, item}`, answered `added {req, item}` once
// the replica stored the new list (version + 1) and synced it. Every 4 ms a replica pushes its
// whole list to the other (`state {from, version, items}`); a replica takes a pushed list that is
// newer than its own. No simulated service is involved.
// Invariant `adds-kept`: an item a replica acknowledged is on at least one replica's list ("item
// i-2-4 (added at r1) was lost from the shopping list").
// Operations (history): `add` per item.
//
// Bug (variant `buggy`): "newer" is a scalar version (higher wins, the higher replica name on a
// tie): two adds made at the two replicas between pushes each take the list to the same version
// (or one side makes more of them), and the replica that takes the other's list drops its own add,
// which the other never had. Concurrent lists are not ordered by one number.
// Fix (variant `fixed`): a pushed list is merged, not taken: the union of both item sets (items
// are only ever added: a grow-only set), and the version the larger of the two.
// Faults: delay, reorder.
//
// Label. `stale_derived_write` (between the design's own processes): the replica stored the other
// replica's pushed copy over its own acknowledged add, which that copy had never seen (not in the
// push's causal past). Key events: the replica's acknowledgement of the lost item (its `added`
// send), the other replica's push (its `state` send) whose delivery replaced the list, that
// delivery, and the replica's storage write of the list that followed it.
#include "design.hpp"
#include "trace_lookup.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>

namespace seer::bench::explain {

namespace list_merge {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kClients = 2;
constexpr sim::Duration kPushEvery = sim::milliseconds(4);
constexpr sim::Duration kAddTimeout = sim::milliseconds(10);

struct Add : sim::Payload {
  Add(std::uint64_t r, std::string i) : req(r), item(std::move(i)) {}
  std::uint64_t req;
  std::string item;
  std::string_view type() const override { return "add"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"item", item}}; }
};

struct Added : sim::Payload {
  Added(std::uint64_t r, std::string i) : req(r), item(std::move(i)) {}
  std::uint64_t req;
  std::string item;
  std::string_view type() const override { return "added"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"item", item}}; }
};

struct State : sim::Payload {
  State(std::string f, std::int64_t v, std::vector<std::string> i)
      : from(std::move(f)), version(v), items(std::move(i)) {}
  std::string from;
  std::int64_t version;
  std::vector<std::string> items;
  std::string_view type() const override { return "state"; }
  nlohmann::json to_json() const override {
    return {{"from", from}, {"version", version}, {"items", items}};
  }
};

// What the invariant watches: each replica's current items and the acknowledged adds. Filled in
// by the processes as a test's ground truth; design code never reads it.
struct Observed {
  std::map<std::string, std::set<std::string>> lists;  // replica -> items
  std::map<std::string, std::string> acked;            // item -> replica that acknowledged it
  std::uint64_t changes = 0;
};

sim::Task<void> replica(sim::Env& env, std::shared_ptr<Observed> observed,
                        std::shared_ptr<std::vector<sim::ProcessId>> replicas, bool fixed) {
  const std::string me = env.name_of(env.self());
  const sim::ProcessId peer = (*replicas)[0] == env.self() ? (*replicas)[1] : (*replicas)[0];
  std::int64_t version = 0;
  std::vector<std::string> items;
  auto store = [&] {
    env.storage().put("list", nlohmann::json{{"version", version}, {"items", items}}.dump());
    observed->lists[me] = std::set<std::string>(items.begin(), items.end());
    ++observed->changes;
  };
  sim::Time next_push = env.now() + kPushEvery;
  for (;;) {
    const sim::Duration left = next_push - env.now();
    std::optional<sim::Message> m;
    if (left > 0) m = co_await env.receive_for(left);
    if (!m) {
      env.send(peer, sim::make_payload<State>(me, version, items));
      next_push = env.now() + kPushEvery;
      continue;
    }
    if (const auto* a = m->as<Add>()) {
      if (std::find(items.begin(), items.end(), a->item) == items.end()) {
        items.push_back(a->item);
        ++version;
        store();
        co_await env.sync();
      }
      observed->acked.emplace(a->item, me);
      ++observed->changes;
      env.send(m->from, sim::make_payload<Added>(a->req, a->item));
    } else if (const auto* s = m->as<State>()) {
      if (fixed) {
        bool grew = false;
        for (const auto& item : s->items) {
          if (std::find(items.begin(), items.end(), item) == items.end()) {
            items.push_back(item);
            grew = true;
          }
        }
        if (grew) {
          version = std::max(version, s->version) + 1;
          store();
          co_await env.sync();
        }
      } else if (s->version > version || (s->version == version && s->from > me)) {
        if (s->items != items) {
          version = s->version;
          items = s->items;
          store();
          co_await env.sync();
        }
      }
    }
  }
}

sim::Task<void> client(sim::Env& env, sim::HistoryRecorder& history,
                       std::vector<sim::ProcessId> replicas, int index, int adds) {
  std::uint64_t req = 0;
  for (int n = 1; n <= adds; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 5'000'000));
    const std::string item = "i-" + std::to_string(index) + "-" + std::to_string(n);
    const auto to = replicas[env.random() % replicas.size()];
    history.invoke(index - 1, "add", item);
    const std::uint64_t r = ++req;
    env.send(to, sim::make_payload<Add>(r, item));
    bool ok = false;
    const sim::Time deadline = env.now() + kAddTimeout;
    while (!ok) {
      const sim::Duration left = deadline - env.now();
      if (left <= 0) break;
      const auto m = co_await env.receive_for(left);
      if (!m) break;
      if (const auto* a = m->as<Added>(); a && a->req == r) ok = true;
    }
    history.complete(index - 1, ok ? sim::OpType::kOk : sim::OpType::kInfo, "add", item);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"list_merge",
            "a shopping list on two replicas that push their whole state to each other",
            {"buggy", "fixed"},
            {{"adds-kept", "an acknowledged item stays on some replica's list"}},
            {}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    auto observed = std::make_shared<Observed>();
    // The replicas learn each other's ids from a shared slot filled once both are added.
    auto ids = std::make_shared<std::vector<sim::ProcessId>>();
    std::vector<sim::ProcessId> replicas;
    for (const char* name : {"r1", "r2"}) {
      replicas.push_back(sim.add_process(
          name,
          [observed, ids, fixed](sim::Env& env) { return replica(env, observed, ids, fixed); },
          {.crashable = false, .client = false}));
    }
    *ids = replicas;
    auto& history = sim.history();
    const int adds = std::max(1, sim.config().ops / kClients);
    for (int c = 1; c <= kClients; ++c) {
      sim.add_process("c" + std::to_string(c),
                      [&history, replicas, c, adds](sim::Env& env) {
                        return client(env, history, replicas, c, adds);
                      },
                      {.crashable = false, .client = true});
    }
    sim.add_invariant("adds-kept",
                      sim::when_changed([observed] { return observed->changes; },
                                        [observed]() -> std::optional<sim::Finding> {
                                          for (const auto& [item, at] : observed->acked) {
                                            bool kept = false;
                                            for (const auto& [name, items] : observed->lists) {
                                              if (items.count(item)) kept = true;
                                            }
                                            if (!kept) {
                                              return sim::Finding{
                                                  "item " + item + " (added at " + at +
                                                      ") was lost from the shopping list",
                                                  {item}};
                                            }
                                          }
                                          return std::nullopt;
                                        }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the item I and the replica R that acknowledged it. R's `added` send for I;
// the first `state` delivery at R after R took the add in (a push may arrive while the add's
// write syncs, before the acknowledgement leaves) whose pushed items lack I and which R stored
// (R's next storage write of `list`, with no other delivery at R in between: the write made
// handling this push); the push's send; that storage write.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string item = between(msg, "item ", " (added at ");
  const std::string at = between(msg, "(added at ", ")");
  if (item.empty() || at.empty()) return {};
  const int lane = lane_of(trace, at);
  const auto* ack = find_first(trace, [&](const TraceEvent& e) {
    return e.lane == lane && e.kind == EventKind::kSend && e.type == "added" &&
           payload(e).value("item", "") == item;
  });
  if (!ack) return {};
  const auto* add = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.lane == lane && e.kind == EventKind::kDeliver && e.type == "add" &&
               payload(e).value("item", "") == item;
      },
      ack->seq);
  if (!add) return {};
  for (const auto& d : trace.events) {
    if (d.seq <= add->seq || d.lane != lane || d.kind != EventKind::kDeliver || d.type != "state") {
      continue;
    }
    const auto& items = payload(d).value("items", nlohmann::json::array());
    if (std::find(items.begin(), items.end(), item) != items.end()) continue;
    const TraceEvent* write = nullptr;
    for (std::uint64_t s = d.seq + 1; s <= trace.events.size(); ++s) {
      const auto& w = trace.at(s);
      if (w.lane != lane) continue;
      if (w.kind == EventKind::kDeliver) break;  // R went on to another message
      if (w.kind == EventKind::kStorageWrite && w.line.value("key", "") == "list") {
        write = &w;
        break;
      }
    }
    if (!write) continue;
    const auto* push = send_of(trace, d);
    if (!push) continue;
    return {ack->seq, push->seq, d.seq, write->seq};
  }
  return {};
}

}  // namespace list_merge

Design make_list_merge() {
  Design d;
  d.name = "list_merge";
  d.bug =
      "replicas take the other's pushed list when its scalar version is higher (or ties and the "
      "name wins): an add made concurrently at the taking replica is dropped";
  d.system = std::make_unique<list_merge::System>();
  d.invariant = "adds-kept";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder};
  d.ops = 40;
  d.held_out = true;
  d.label.kinds = {"stale_derived_write"};
  d.label.key_events = list_merge::key_events;
  return d;
}

}  // namespace seer::bench::explain
