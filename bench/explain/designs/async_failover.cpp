// async_failover: a primary that acknowledges orders before its backup has them, then fails over.
//
// Spec. An order store on two nodes (`node1`, `node2`, the design's own processes, crashable,
// orders on local disk as `order/<id>`); the KV store names the primary (`primary` = {node,
// epoch}, initially node1 at epoch 1). Writers (`writer1`, `writer2`, clients) read `primary`
// (linearizable), send `put {req, order}` there and wait 10 ms for `ack`; on a timeout or a
// `not_primary` they read `primary` again and resend the same order (at most 12 attempts). The
// primary stores the order, syncs, and answers; every 3 ms it sends the backup a heartbeat. A
// backup stores what it is sent (`replicate`), syncs and answers `replicated`; a backup that hears
// nothing from the primary for 12 ms promotes itself: it compare-and-sets `primary` to {itself,
// epoch + 1}. A primary that hears a heartbeat of a newer epoch steps down. A restarted node reads
// `primary` to learn its role.
// Check `acked-orders-survive` (at the end of the run): every acknowledged order is on the disk of
// the node `primary` names ("order o-1-7 acknowledged by node1 is missing on node2, the primary").
// Operations (history): `put` per order, by each writer.
//
// Bug (variant `buggy`): asynchronous replication. The primary acknowledges an order once it is
// on its own disk and ships new orders to the backup with its next heartbeat, keeping the list to
// ship in memory. A primary that crashes after acknowledging an order and before shipping it
// takes the order's only copy out of service: the backup promotes itself without it (or the
// restarted primary never ships it, and a later failover drops it).
// Fix (variant `fixed`): synchronous replication: the primary sends each order to the backup and
// acknowledges only once the backup answered `replicated` (else the writer retries).
// Faults: delay, crash.
//
// Label. `crash_lost_data`: a crash took the acknowledged order's only copy out of service. The key
// events: the acknowledging node's `ack` of the order; when its shipment of the order was dropped
// because the other node was down, that node's crash before the drop and the drop, else the
// acknowledging node's first crash after the ack (before it shipped the order); and the promotion
// of the node `primary` names at the end (the store's reply send to its last compare-and-set of
// `primary`), when it made one.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>

namespace seer::bench::explain {

namespace async_failover {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kWriters = 2;
constexpr sim::Duration kKvTimeout = sim::milliseconds(20);
constexpr sim::Duration kPutTimeout = sim::milliseconds(10);
constexpr sim::Duration kReplicateTimeout = sim::milliseconds(6);
constexpr sim::Duration kHeartbeat = sim::milliseconds(3);
constexpr sim::Duration kSilence = sim::milliseconds(12);
constexpr int kAttempts = 12;

struct Put : sim::Payload {
  Put(std::uint64_t r, std::string o) : req(r), order(std::move(o)) {}
  std::uint64_t req;
  std::string order;
  std::string_view type() const override { return "put"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"order", order}}; }
};

struct Ack : sim::Payload {
  Ack(std::uint64_t r, std::string o, bool ok) : req(r), order(std::move(o)), ok(ok) {}
  std::uint64_t req;
  std::string order;
  bool ok;  // false: not the primary
  std::string_view type() const override { return ok ? "ack" : "not_primary"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"order", order}}; }
};

struct Heartbeat : sim::Payload {
  Heartbeat(std::int64_t e, std::vector<std::string> o) : epoch(e), orders(std::move(o)) {}
  std::int64_t epoch;
  std::vector<std::string> orders;  // buggy: the orders shipped with it
  std::string_view type() const override { return "heartbeat"; }
  nlohmann::json to_json() const override { return {{"epoch", epoch}, {"orders", orders}}; }
};

struct Replicate : sim::Payload {
  Replicate(std::uint64_t r, std::int64_t e, std::string o)
      : req(r), epoch(e), order(std::move(o)) {}
  std::uint64_t req;
  std::int64_t epoch;
  std::string order;
  std::string_view type() const override { return "replicate"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"epoch", epoch}, {"order", order}};
  }
};

struct Replicated : sim::Payload {
  explicit Replicated(std::uint64_t r) : req(r) {}
  std::uint64_t req;
  std::string_view type() const override { return "replicated"; }
  nlohmann::json to_json() const override { return {{"req", req}}; }
};

// Simulation bookkeeping for the final check: each acknowledged order and the node that acked it.
using Acked = std::shared_ptr<std::map<std::string, std::string>>;

sim::Task<void> store(sim::Env& env, const std::vector<std::string>& orders) {
  for (const auto& o : orders) env.storage().put("order/" + o, "1");
  co_await env.sync();
}

sim::Task<void> node(sim::Env& env, sim::ProcessId kv_id, sim::ProcessId peer, bool fixed) {
  std::deque<sim::Message> inbox;
  services::KvClient kv(env, kv_id, kKvTimeout, &inbox, env.random());
  const std::string me = env.name_of(env.self());
  bool primary = false;
  std::int64_t epoch = 0;
  for (;;) {
    const auto r = co_await kv.get("primary", services::KvRead::kLinearizable);
    if (!r.ok()) continue;
    primary = r.value.value("node", "") == me;
    epoch = r.value.value("epoch", std::int64_t{0});
    break;
  }
  std::vector<std::string> to_ship;  // buggy: acknowledged, not shipped yet
  std::uint64_t rep_req = env.random() % 1'000'000'000;
  sim::Time last_heard = env.now();
  sim::Time next_beat = env.now();
  for (;;) {
    if (primary && env.now() >= next_beat) {
      env.send(peer, sim::make_payload<Heartbeat>(epoch, to_ship));
      to_ship.clear();
      next_beat = env.now() + kHeartbeat;
    }
    if (!primary && env.now() - last_heard > kSilence) {
      const auto cur = co_await kv.get("primary", services::KvRead::kLinearizable);
      if (cur.ok()) {
        const auto cur_epoch = cur.value.value("epoch", std::int64_t{0});
        if (cur.value.value("node", "") == me) {
          primary = true;
          epoch = cur_epoch;
        } else {
          const nlohmann::json next = {{"node", me}, {"epoch", cur_epoch + 1}};
          const auto u = co_await kv.update("primary", next, cur.revision);
          if (u.ok()) {
            primary = true;
            epoch = cur_epoch + 1;
            next_beat = env.now();
          }
        }
      }
      last_heard = env.now();
      continue;
    }
    sim::Message m;
    if (!inbox.empty()) {
      m = std::move(inbox.front());
      inbox.pop_front();
    } else {
      const sim::Duration wait = primary ? next_beat - env.now() : kSilence / 4;
      auto got = co_await env.receive_for(wait > 0 ? wait : 0);
      if (!got) continue;
      m = std::move(*got);
    }
    if (const auto* h = m.as<Heartbeat>()) {
      if (h->epoch > epoch || (!primary && h->epoch == epoch)) {
        if (primary && !to_ship.empty()) {
          // Stepping down: hand the new primary what was acknowledged and not shipped yet.
          env.send(peer, sim::make_payload<Heartbeat>(epoch, to_ship));
          to_ship.clear();
        }
        primary = false;
        epoch = h->epoch;
        last_heard = env.now();
      }
      if (!h->orders.empty()) co_await store(env, h->orders);
      continue;
    }
    if (const auto* rep = m.as<Replicate>()) {
      const auto req = rep->req;
      const auto from = m.from;
      const std::vector<std::string> one = {rep->order};
      if (!primary) last_heard = env.now();
      co_await store(env, one);
      env.send(from, sim::make_payload<Replicated>(req));
      continue;
    }
    const auto* p = m.as<Put>();
    if (!p) continue;
    const auto req = p->req;
    const std::string order = p->order;
    const auto from = m.from;
    if (!primary) {
      env.send(from, sim::make_payload<Ack>(req, order, false));
      continue;
    }
    const std::vector<std::string> one = {order};
    co_await store(env, one);
    if (!fixed) {
      to_ship.push_back(order);
      env.send(from, sim::make_payload<Ack>(req, order, true));
      continue;
    }
    const std::uint64_t r = ++rep_req;
    env.send(peer, sim::make_payload<Replicate>(r, epoch, order));
    bool replicated = false;
    const sim::Time deadline = env.now() + kReplicateTimeout;
    for (;;) {
      const sim::Duration left = deadline - env.now();
      if (left <= 0) break;
      auto got = co_await env.receive_for(left);
      if (!got) break;
      const auto* done = got->as<Replicated>();
      if (done && done->req == r) {
        replicated = true;
        break;
      }
      if (!done) inbox.push_back(std::move(*got));
    }
    if (replicated) env.send(from, sim::make_payload<Ack>(req, order, true));
  }
}

// The store's initial state: node1 leads at epoch 1.
sim::Task<void> first_primary(sim::Env& env, sim::ProcessId kv_id) {
  services::KvClient c(env, kv_id, kKvTimeout);
  const nlohmann::json first = {{"node", "node1"}, {"epoch", 1}};
  for (;;) {
    const auto r = co_await c.create("primary", first);
    if (!r.timed_out) break;
  }
}

sim::Task<void> writer(sim::Env& env, sim::HistoryRecorder& history, int index,
                       sim::ProcessId kv_id, std::map<std::string, sim::ProcessId> nodes,
                       int orders, Acked acked) {
  services::KvClient kv(env, kv_id, kKvTimeout);
  std::optional<sim::ProcessId> target;
  std::uint64_t req = 0;
  for (int n = 1; n <= orders; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 4'000'000));
    const std::string order = "o-" + std::to_string(index + 1) + "-" + std::to_string(n);
    history.invoke(index, "put", order);
    bool done = false;
    for (int attempt = 0; attempt < kAttempts && !done; ++attempt) {
      if (attempt > 0) co_await env.sleep(sim::milliseconds(2));
      if (!target) {
        const auto r = co_await kv.get("primary", services::KvRead::kLinearizable);
        if (!r.ok()) continue;
        const auto it = nodes.find(r.value.value("node", ""));
        if (it == nodes.end()) continue;
        target = it->second;
      }
      const std::uint64_t r = ++req;
      env.send(*target, sim::make_payload<Put>(r, order));
      const sim::Time deadline = env.now() + kPutTimeout;
      bool moved = true;
      for (;;) {
        const sim::Duration left = deadline - env.now();
        if (left <= 0) break;
        const auto m = co_await env.receive_for(left);
        if (!m) break;
        const auto* a = m->as<Ack>();
        if (!a || a->req != r) continue;
        if (a->ok) {
          done = true;
          moved = false;
          (*acked)[order] = env.name_of(m->from);
        }
        break;
      }
      if (moved) target.reset();
    }
    history.complete(index, done ? sim::OpType::kOk : sim::OpType::kInfo, "put", order);
  }
  co_await env.sleep(sim::milliseconds(40));  // let the last shipments land
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"async_failover",
            "an order store on a primary and a backup that promotes itself when the primary goes "
            "silent",
            {"buggy", "fixed"},
            {{"acked-orders-survive", "every acknowledged order is on the primary's disk"}},
            {{"kv", {"linearizable"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(sim, "kv", services::kv_config("linearizable"));
    // Each node learns its peer's id from a shared slot (node2 is added after node1).
    auto ids = std::make_shared<std::map<std::string, sim::ProcessId>>();
    for (const std::string name : {"node1", "node2"}) {
      const std::string other = name == "node1" ? "node2" : "node1";
      (*ids)[name] = sim.add_process(name,
                                     [k = kv.process, ids, other, fixed](sim::Env& env) {
                                       return node(env, k, ids->at(other), fixed);
                                     },
                                     {.crashable = true, .client = false});
    }
    // The store's initial state: node1 leads at epoch 1, written by a setup process.
    sim.add_process("setup", [k = kv.process](sim::Env& env) { return first_primary(env, k); },
                    {.crashable = false, .client = false, .pausable = false});
    auto acked = std::make_shared<std::map<std::string, std::string>>();
    auto& history = sim.history();
    const int orders = sim.config().ops;
    for (int w = 0; w < kWriters; ++w) {
      sim.add_process("writer" + std::to_string(w + 1),
                      [&history, w, k = kv.process, ids, orders, acked](sim::Env& env) {
                        return writer(env, history, w, k, *ids, orders, acked);
                      },
                      {.crashable = false, .client = true});
    }
    sim.add_final_check("acked-orders-survive",
                        [&sim, truth = kv.truth, ids, acked]() -> std::optional<sim::Finding> {
                          const auto& latest = truth->latest("primary");
                          const auto value = latest.encoded();
                          if (!value.is_object()) return std::nullopt;
                          const std::string primary = value.value("node", "");
                          const auto it = ids->find(primary);
                          if (it == ids->end()) return std::nullopt;
                          const auto disk = sim.disk(it->second);
                          for (const auto& [order, by] : *acked) {
                            if (disk.durable->count("order/" + order)) continue;
                            return sim::Finding{"order " + order + " acknowledged by " + by +
                                                    " is missing on " + primary + ", the primary",
                                                {order}};
                          }
                          return std::nullopt;
                        });
  }
};

// --- Label -------------------------------------------------------------------------------------

bool applied(const TraceEvent& reply) {
  const auto& o = reply.oracle();
  if (o.is_object() && o.contains("service") && o["service"].is_object() &&
      o["service"].contains("applied")) {
    return o["service"]["applied"].get<bool>();
  }
  return payload(reply).value("status", "") == "ok";
}

// From the message: the order O, the node A that acknowledged it and the primary B. A's last
// `ack` of O. If A shipped O and the network dropped the shipment (B was down): B's last crash
// before that drop, and the drop. Else A's first crash after the ack (before it shipped O). Then
// B's last applied compare-and-set of `primary` (a KV request of B's carrying an epoch: only a
// promotion writes).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string order = between(msg, "order ", " acknowledged by ");
  const std::string by = between(msg, " acknowledged by ", " is missing on ");
  const std::string primary = between(msg, " is missing on ", ", the primary");
  if (order.empty() || by.empty() || primary.empty()) return {};
  const int a = lane_of(trace, by);
  const int b = lane_of(trace, primary);
  if (a < 0 || b < 0) return {};
  const auto* ack = find_last(trace, [&](const TraceEvent& e) {
    return e.lane == a && e.kind == EventKind::kSend && e.type == "ack" &&
           payload(e).value("order", "") == order;
  });
  if (!ack) return {};
  const auto ships = [&](const TraceEvent& e) {
    if (e.type != "heartbeat") return false;
    const auto orders = payload(e).value("orders", nlohmann::json::array());
    return std::find(orders.begin(), orders.end(), nlohmann::json(order)) != orders.end();
  };
  std::vector<std::uint64_t> keys = {ack->seq};
  const auto* dropped = find_first(
      trace, [&](const TraceEvent& e) { return e.kind == EventKind::kDrop && ships(e); }, ack->seq);
  if (dropped) {
    const auto* down = find_last(
        trace, [&](const TraceEvent& e) { return e.lane == b && e.kind == EventKind::kCrash; },
        dropped->seq);
    if (!down) return {};
    keys.push_back(down->seq);
    keys.push_back(dropped->seq);
  } else {
    const auto* crash = find_first(
        trace, [&](const TraceEvent& e) { return e.lane == a && e.kind == EventKind::kCrash; },
        ack->seq);
    if (!crash) return {};
    keys.push_back(crash->seq);
  }
  const TraceEvent* promotion = nullptr;
  for (const auto& e : trace.events) {
    if (e.lane != b || e.kind != EventKind::kSend || e.type != "kv_request" ||
        payload(e).dump().find("\"epoch\"") == std::string::npos) {
      continue;
    }
    const auto* reply = reply_send_for(trace, e);
    if (reply && applied(*reply)) promotion = reply;
  }
  if (promotion) keys.push_back(promotion->seq);
  return keys;
}

}  // namespace async_failover

Design make_async_failover() {
  Design d;
  d.name = "async_failover";
  d.bug =
      "a primary acknowledges orders before its backup has them; a crash before the next "
      "shipment and the backup's promotion lose them";
  d.system = std::make_unique<async_failover::System>();
  d.invariant = "acked-orders-survive";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kCrash};
  d.ops = 40;
  d.held_out = true;
  d.label.kinds = {"crash_lost_data"};
  d.label.key_events = async_failover::key_events;
  return d;
}

}  // namespace seer::bench::explain
