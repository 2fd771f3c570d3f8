// failover: a box office's seat map on a primary/backup pair, failing over on missed heartbeats.
//
// Spec. Two nodes (`node1`, `node2`, the design's own processes and messages) hold a show's seat
// map in memory. The primary assigns each booking the lowest free seat, replicates the assignment
// to the other node and waits for its acknowledgment (synchronous replication), then confirms the
// seat to the agent. The primary sends a heartbeat to the backup every 5 ms; a backup that hears
// nothing from the primary for 30 ms promotes itself: it reads the `primary` record in the KV
// store ({node, epoch}) and compare-and-sets it to itself with the next epoch. Three ticket agents
// book orders: each reads `primary` and sends the booking there (60 ms timeout; a "not primary"
// answer makes it read `primary` again and retry, a timeout gives the order up as unknown; a
// confirmation that arrives late is still a ticket the customer holds).
// Invariant `seat-sold-once`: no seat is confirmed to two orders ("seat-7 sold twice: to orders
// o1-3 and o2-5").
// Operations (history): `book` per order.
//
// Bug (variant `buggy`): split brain. A primary that was only paused (or a backup paused past its
// heartbeat timeout) does not know it was replaced: when it runs again it serves the bookings
// waiting in its mailbox from its own seat map, and the other node applies its replication without
// asking which epoch it comes from. Both nodes confirm the same seat to different orders.
// Fix (variant `fixed`): epochs. Every replication and heartbeat carries the sender's epoch; a node
// refuses a replication from an older epoch, and a node that learns of a newer epoch (a refusal, a
// replication or a heartbeat) steps down and answers "not primary" instead of confirming.
// Faults: delay, pause (the nodes may pause; the agents and the KV store do not).
//
// Label: `expired_lease`, the closest documented kind. The real cause is split brain: a deposed
// primary acting after another node took the primary record over (the record has no deadline,
// only an epoch, so this is the "after another process had taken the lease over" half of
// `expired_lease`, not a deadline passing).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace failover {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kAgents = 3;
constexpr int kSeats = 100;
constexpr sim::Duration kBeat = sim::milliseconds(5);
constexpr sim::Duration kFailoverAfter = sim::milliseconds(30);
constexpr sim::Duration kReplicateWait = sim::milliseconds(150);
constexpr sim::Duration kAgentTimeout = sim::milliseconds(60);
constexpr sim::Duration kKvTimeout = sim::milliseconds(40);
const char* const kPrimaryKey = "primary";

std::string seat_name(int seat) {
  return "seat-" + std::to_string(seat);
}

struct Book : sim::Payload {
  Book(std::uint64_t r, std::string o) : req(r), order(std::move(o)) {}
  std::uint64_t req;
  std::string order;
  std::string_view type() const override { return "book"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"order", order}}; }
};

struct Booked : sim::Payload {
  Booked(std::uint64_t r, std::string o, std::string s)
      : req(r), order(std::move(o)), seat(std::move(s)) {}
  std::uint64_t req;
  std::string order;
  std::string seat;
  std::string_view type() const override { return "booked"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"order", order}, {"seat", seat}};
  }
};

struct Refused : sim::Payload {
  Refused(std::uint64_t r, std::string o, std::string why)
      : req(r), order(std::move(o)), reason(std::move(why)) {}
  std::uint64_t req;
  std::string order;
  std::string reason;  // not_primary, unavailable, sold_out
  std::string_view type() const override { return "book_refused"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"order", order}, {"reason", reason}};
  }
};

struct Replicate : sim::Payload {
  Replicate(std::uint64_t r, std::int64_t e, std::string s, std::string o)
      : rid(r), epoch(e), seat(std::move(s)), order(std::move(o)) {}
  std::uint64_t rid;
  std::int64_t epoch;
  std::string seat;
  std::string order;
  std::string_view type() const override { return "replicate"; }
  nlohmann::json to_json() const override {
    return {{"rid", rid}, {"epoch", epoch}, {"seat", seat}, {"order", order}};
  }
};

struct ReplicateAck : sim::Payload {
  ReplicateAck(std::uint64_t r, bool a, std::int64_t e) : rid(r), applied(a), epoch(e) {}
  std::uint64_t rid;
  bool applied;
  std::int64_t epoch;  // the acknowledging node's epoch
  std::string_view type() const override { return "replicate_ack"; }
  nlohmann::json to_json() const override {
    return {{"rid", rid}, {"applied", applied}, {"epoch", epoch}};
  }
};

struct Heartbeat : sim::Payload {
  explicit Heartbeat(std::int64_t e) : epoch(e) {}
  std::int64_t epoch;
  std::string_view type() const override { return "heartbeat"; }
  nlohmann::json to_json() const override { return {{"epoch", epoch}}; }
};

struct NodeConfig {
  sim::ProcessId kv = sim::kNoProcess;
  std::string me;
  std::string peer;
  // The nodes' process ids by name (filled once both are added; read when a node starts).
  std::shared_ptr<const std::map<std::string, sim::ProcessId>> ids;
  bool starts_primary = false;
  bool fixed = false;
};

sim::Task<void> node(sim::Env& env, NodeConfig c) {
  const sim::ProcessId peer = c.ids->at(c.peer);
  std::deque<sim::Message> inbox;  // messages that arrived during a KV call, then handled in order
  services::KvClient kv(env, c.kv, kKvTimeout, &inbox);
  bool primary = false;
  std::int64_t epoch = 1;
  std::map<std::string, std::string> seats;  // seat -> order
  sim::Time last_heard = env.now();
  sim::Time next_beat = env.now();
  std::uint64_t next_rid = 1;
  struct Pending {
    std::uint64_t rid;
    sim::ProcessId agent;
    std::uint64_t req;
    std::string order;
    std::string seat;
    sim::Time deadline;
  };
  std::optional<Pending> pending;
  std::deque<sim::Message> deferred;  // bookings that arrived while one was replicating

  if (c.starts_primary) {
    const nlohmann::json record = {{"node", c.me}, {"epoch", 1}};
    for (;;) {
      const auto r = co_await kv.put(kPrimaryKey, record);
      if (!r.timed_out) break;
    }
    primary = true;
  }

  auto step_down = [&](std::int64_t newer) {
    primary = false;
    epoch = newer;
    last_heard = env.now();
  };
  auto finish = [&](bool confirmed, const std::string& reason) {
    if (confirmed) {
      env.send(pending->agent,
               sim::make_payload<Booked>(pending->req, pending->order, pending->seat));
    } else {
      env.send(pending->agent, sim::make_payload<Refused>(pending->req, pending->order, reason));
      const auto it = seats.find(pending->seat);
      if (it != seats.end() && it->second == pending->order) seats.erase(it);
    }
    pending.reset();
    while (!deferred.empty()) {
      inbox.push_front(std::move(deferred.back()));
      deferred.pop_back();
    }
  };

  for (;;) {
    // Timers first: a replication that waited too long, the heartbeat, the failure detector.
    const sim::Time now = env.now();
    if (pending && now >= pending->deadline) finish(false, "unavailable");
    if (primary && now >= next_beat) {
      env.send(peer, sim::make_payload<Heartbeat>(epoch));
      next_beat = now + kBeat;
    } else if (!primary && now >= last_heard + kFailoverAfter) {
      // The primary is gone: take its place with the next epoch.
      const auto current = co_await kv.get(kPrimaryKey);
      if (current.ok()) {
        const std::int64_t next = current.value.value("epoch", std::int64_t{0}) + 1;
        const nlohmann::json record = {{"node", c.me}, {"epoch", next}};
        const auto won = co_await kv.update(kPrimaryKey, record, current.revision);
        if (won.ok()) {
          primary = true;
          epoch = next;
          next_beat = env.now();
        }
      }
      last_heard = env.now();  // if it did not win, wait another timeout before trying again
      continue;
    }

    std::optional<sim::Message> m;
    if (!inbox.empty()) {
      m = std::move(inbox.front());
      inbox.pop_front();
    } else {
      sim::Time wake = primary ? next_beat : last_heard + kFailoverAfter;
      if (pending) wake = std::min(wake, pending->deadline);
      const sim::Duration wait = wake - env.now();
      if (wait <= 0) continue;
      m = co_await env.receive_for(wait);
      if (!m) continue;
    }

    if (const auto* b = m->as<Book>()) {
      if (!primary) {
        env.send(m->from, sim::make_payload<Refused>(b->req, b->order, "not_primary"));
        continue;
      }
      if (pending) {
        deferred.push_back(std::move(*m));
        continue;
      }
      std::string seat;
      for (int s = 1; s <= kSeats && seat.empty(); ++s) {
        if (!seats.count(seat_name(s))) seat = seat_name(s);
      }
      if (seat.empty()) {
        env.send(m->from, sim::make_payload<Refused>(b->req, b->order, "sold_out"));
        continue;
      }
      seats[seat] = b->order;
      const std::uint64_t rid = next_rid++;
      pending = Pending{rid, m->from, b->req, b->order, seat, env.now() + kReplicateWait};
      env.send(peer, sim::make_payload<Replicate>(rid, epoch, seat, b->order));
    } else if (const auto* r = m->as<Replicate>()) {
      if (c.fixed) {
        if (r->epoch < epoch) {
          env.send(m->from, sim::make_payload<ReplicateAck>(r->rid, false, epoch));
          continue;
        }
        if (r->epoch > epoch) {
          if (primary) step_down(r->epoch);
          epoch = r->epoch;
        }
      }
      seats[r->seat] = r->order;
      if (!primary) last_heard = env.now();
      env.send(m->from, sim::make_payload<ReplicateAck>(r->rid, true, epoch));
    } else if (const auto* a = m->as<ReplicateAck>()) {
      if (!pending || a->rid != pending->rid) continue;  // a late one
      if (c.fixed && (!a->applied || !primary)) {
        if (a->epoch > epoch) step_down(a->epoch);
        finish(false, "not_primary");
      } else {
        finish(true, "");
      }
    } else if (const auto* h = m->as<Heartbeat>()) {
      if (c.fixed) {
        if (h->epoch > epoch) {
          if (primary) step_down(h->epoch);
          epoch = h->epoch;
        }
        if (!primary && h->epoch == epoch) last_heard = env.now();
      } else if (!primary) {
        last_heard = env.now();
      }
    }
  }
}

// The tickets customers hold: what the agents were confirmed (in time or late).
struct Tickets {
  std::map<std::string, std::string> owner;  // seat -> order
  std::optional<std::string> violation;
  void take(const std::string& order, const std::string& seat) {
    const auto it = owner.find(seat);
    if (it == owner.end()) {
      owner[seat] = order;
    } else if (it->second != order && !violation) {
      violation = seat + " sold twice: to orders " + it->second + " and " + order;
    }
  }
};

struct AgentConfig {
  int id = 0;
  int orders = 0;
  sim::ProcessId kv = sim::kNoProcess;
  std::map<std::string, sim::ProcessId> nodes;
};

sim::Task<void> agent(sim::Env& env, sim::HistoryRecorder& history, AgentConfig c,
                      std::shared_ptr<Tickets> tickets) {
  std::deque<sim::Message> mail;  // late answers that arrived during a KV call
  services::KvClient kv(env, c.kv, kKvTimeout, &mail);
  std::uint64_t next_req = 1;
  auto next_message = [&](sim::Time deadline) -> sim::Task<std::optional<sim::Message>> {
    if (!mail.empty()) {
      auto m = std::move(mail.front());
      mail.pop_front();
      co_return m;
    }
    const sim::Duration left = deadline - env.now();
    if (left <= 0) co_return std::nullopt;
    co_return co_await env.receive_for(left);
  };
  for (int n = 1; n <= c.orders; ++n) {
    co_await env.sleep(sim::milliseconds(2) + static_cast<sim::Duration>(env.random() % 8'000'000));
    const std::string order = "o" + std::to_string(c.id) + "-" + std::to_string(n);
    history.invoke(c.id, "book", order);
    bool done = false;
    for (int attempt = 0; attempt < 3 && !done; ++attempt) {
      const auto p = co_await kv.get(kPrimaryKey);
      if (!p.ok()) continue;
      const auto target = c.nodes.find(p.value.value("node", ""));
      if (target == c.nodes.end()) continue;
      const std::uint64_t req = next_req++;
      env.send(target->second, sim::make_payload<Book>(req, order));
      const sim::Time deadline = env.now() + kAgentTimeout;
      bool retry = false;
      for (;;) {
        const auto m = co_await next_message(deadline);
        if (!m) break;
        if (const auto* b = m->as<Booked>()) {
          tickets->take(b->order, b->seat);
          if (b->req == req) {
            history.complete(c.id, sim::OpType::kOk, "book",
                             nlohmann::json::array({order, b->seat}));
            done = true;
            break;
          }
        } else if (const auto* r = m->as<Refused>()) {
          if (r->req != req) continue;
          if (r->reason == "not_primary") {
            retry = true;
          } else {
            history.complete(c.id, sim::OpType::kFail, "book", order, r->reason);
            done = true;
          }
          break;
        }
      }
      if (!done && !retry) {
        history.complete(c.id, sim::OpType::kInfo, "book", order, "timeout");
        done = true;
      }
    }
    if (!done) history.complete(c.id, sim::OpType::kFail, "book", order, "no primary");
  }
  // Confirmations still on their way are tickets too.
  const sim::Time until = env.now() + sim::milliseconds(300);
  for (;;) {
    const auto m = co_await next_message(until);
    if (!m) break;
    if (const auto* b = m->as<Booked>()) tickets->take(b->order, b->seat);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"failover",
            "a primary/backup pair holds a seat map, failing over on missed heartbeats",
            {"buggy", "fixed"},
            {{"seat-sold-once", "no seat is confirmed to two orders"}},
            {{"kv", {"linearizable"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(sim, "kv", services::KvConfig{});
    auto ids = std::make_shared<std::map<std::string, sim::ProcessId>>();
    const NodeConfig c1{kv.process, "node1", "node2", ids, true, fixed};
    const NodeConfig c2{kv.process, "node2", "node1", ids, false, fixed};
    (*ids)["node1"] = sim.add_process("node1", [c1](sim::Env& env) { return node(env, c1); },
                                      {.crashable = false, .client = false, .pausable = true});
    (*ids)["node2"] = sim.add_process("node2", [c2](sim::Env& env) { return node(env, c2); },
                                      {.crashable = false, .client = false, .pausable = true});
    auto tickets = std::make_shared<Tickets>();
    auto& history = sim.history();
    const int agents = sim.config().clients_or(kAgents);
    for (int a = 1; a <= agents; ++a) {
      AgentConfig ac;
      ac.id = a;
      ac.orders = sim.config().ops / agents + (a <= sim.config().ops % agents ? 1 : 0);
      ac.kv = kv.process;
      ac.nodes = *ids;
      sim.add_process(
          "agent" + std::to_string(a),
          [&history, ac, tickets](sim::Env& env) { return agent(env, history, ac, tickets); },
          {.crashable = false, .client = true});
    }
    sim.add_invariant("seat-sold-once",
                      [tickets]() -> std::optional<std::string> { return tickets->violation; });
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the seat S sold twice. The cause: of the two nodes' confirmations of S, the
// one sent by a node that was no longer the one the `primary` record named (the deposed primary's
// act), the write of the record that took it over (the other node's promotion, the latest before
// the act), and the deposed node's own latest write of the record before that (the leadership it
// acted under).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = trace.violation().value("message", "");
  const auto cut = msg.find(" sold twice");
  if (cut == std::string::npos) return {};
  const std::string seat = msg.substr(0, cut);
  struct Write {
    std::uint64_t seq;
    std::string node;
  };
  std::vector<Write> writes;  // applied writes of the primary record, in order
  for (const auto& e : trace.events) {
    if (e.kind != EventKind::kSend || e.type != "kv_reply") continue;
    if (payload(e).value("status", "") != "ok") continue;
    const auto* req = request_send_for(trace, e);
    if (!req) continue;
    const auto& p = payload(*req);
    const std::string op = p.value("op", "");
    if (p.value("key", "") != kPrimaryKey || (op != "put" && op != "update" && op != "create")) {
      continue;
    }
    const auto& value = p.value("value", nlohmann::json());
    if (!value.is_object()) continue;
    writes.push_back({e.seq, value.value("node", "")});
  }
  for (const auto& e : trace.events) {
    if (e.kind != EventKind::kSend || e.type != "booked") continue;
    if (payload(e).value("seat", "") != seat) continue;
    const std::string sender = trace.lane_name(e.lane);
    const Write* holder = nullptr;
    for (const auto& w : writes) {
      if (w.seq < e.seq) holder = &w;
    }
    if (!holder || holder->node == sender) continue;
    const Write* own = nullptr;
    for (const auto& w : writes) {
      if (w.seq < holder->seq && w.node == sender) own = &w;
    }
    std::vector<std::uint64_t> keys;
    if (own) keys.push_back(own->seq);
    keys.push_back(e.seq);
    keys.push_back(holder->seq);
    return keys;
  }
  return {};
}

}  // namespace failover

Design make_failover() {
  Design d;
  d.name = "failover";
  d.bug =
      "a primary paused past its heartbeat timeout keeps serving after the backup took over, and "
      "nothing checks epochs: both confirm the same seat";
  d.system = std::make_unique<failover::System>();
  d.invariant = "seat-sold-once";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kPause};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"expired_lease"};
  d.label.key_events = failover::key_events;
  return d;
}

}  // namespace seer::bench::explain
