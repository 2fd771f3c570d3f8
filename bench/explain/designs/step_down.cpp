// step_down: a ticket allocator whose leader hands leadership over and keeps serving its queue.
//
// Spec. Two allocator nodes (`node1`, `node2`, the design's own processes and messages, no
// service) hand out ticket numbers (1, 2, 3, ...) to three booth clients. One node leads: it
// answers `alloc {req}` with `ticket {req, number}` after journaling the ticket on its local disk
// (a write and a sync, about a millisecond). A node queues the allocations it receives and works
// through them one at a time; control messages go ahead of the queue, so a leadership transfer
// is never stuck behind client load. An admin moves leadership back and forth every 6-10 ms for
// maintenance: it sends `transfer` to the leader, which sends its next number to the other node
// (`handoff {next}`), steps down and answers the admin; the other node leads from `next` on. A
// node that does not lead answers an allocation with `not_leader {leader}` and the client asks
// that node.
// Invariant `ticket-unique`: no ticket number is held by two clients ("ticket 17 issued twice
// (booth1, booth3)").
// Operations (history): `alloc` per ticket by a booth.
//
// Bug (variant `buggy`): a node that steps down keeps serving the allocations it had already
// queued ("they were accepted while it led"): it numbers them from its own counter, past the
// `next` it handed over, and the new leader hands out the same numbers.
// Fix (variant `fixed`): after the handoff the old leader answers its queued allocations
// `not_leader`, and the clients ask the new leader.
// Faults: delay (a slower link lets allocations pile up in the leader's queue).
//
// Label. `expired_lease`: the old leader acted as leader after the other node had taken the
// leadership over (a claim without a deadline, the leadership handed over by its own message).
// Key events: the old leader's handoff (its step-down), the new leader's delivery of it (the
// takeover), the old leader's `ticket` answer carrying the duplicated number, the new leader's
// answer carrying the same number.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/sim/simulator.hpp"

#include <deque>
#include <map>
#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace step_down {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kBooths = 3;
constexpr int kTransfers = 12;
constexpr sim::Duration kAllocTimeout = sim::milliseconds(30);

struct Alloc : sim::Payload {
  explicit Alloc(std::uint64_t r) : req(r) {}
  std::uint64_t req;
  std::string_view type() const override { return "alloc"; }
  nlohmann::json to_json() const override { return {{"req", req}}; }
};

struct Ticket : sim::Payload {
  Ticket(std::uint64_t r, std::int64_t n) : req(r), number(n) {}
  std::uint64_t req;
  std::int64_t number;
  std::string_view type() const override { return "ticket"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"number", number}}; }
};

struct NotLeader : sim::Payload {
  NotLeader(std::uint64_t r, std::string l) : req(r), leader(std::move(l)) {}
  std::uint64_t req;
  std::string leader;
  std::string_view type() const override { return "not_leader"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"leader", leader}}; }
};

struct Transfer : sim::Payload {
  std::string_view type() const override { return "transfer"; }
  nlohmann::json to_json() const override { return nlohmann::json::object(); }
};

struct Handoff : sim::Payload {
  explicit Handoff(std::int64_t n) : next(n) {}
  std::int64_t next;
  std::string_view type() const override { return "handoff"; }
  nlohmann::json to_json() const override { return {{"next", next}}; }
};

struct Transferred : sim::Payload {
  explicit Transferred(std::string l) : leader(std::move(l)) {}
  std::string leader;
  std::string_view type() const override { return "transferred"; }
  nlohmann::json to_json() const override { return {{"leader", leader}}; }
};

// What the booths were handed, for the invariant: ticket number -> the booths holding it.
struct Issued {
  std::map<std::int64_t, std::vector<std::string>> holders;
  std::uint64_t version = 0;
};

sim::Task<void> node(sim::Env& env, std::shared_ptr<std::vector<sim::ProcessId>> nodes, int index,
                     bool fixed) {
  const sim::ProcessId peer = (*nodes)[static_cast<std::size_t>(1 - index)];
  const std::string peer_name = env.name_of(peer);
  bool leader = index == 0;
  std::int64_t next = 1;
  // Allocations waiting their turn, each with whether it arrived while this node led.
  std::deque<std::pair<sim::Message, bool>> queue;
  // Control messages are handled at once; allocations wait in the queue.
  auto handle = [&](sim::Message m) {
    if (m.as<Transfer>()) {
      if (!leader) return;
      env.send(peer, sim::make_payload<Handoff>(next));
      leader = false;
      env.send(m.from, sim::make_payload<Transferred>(peer_name));
      return;
    }
    if (const auto* h = m.as<Handoff>()) {
      leader = true;
      next = h->next;
      return;
    }
    if (m.as<Alloc>()) queue.emplace_back(std::move(m), leader);
  };
  for (;;) {
    if (queue.empty()) handle(co_await env.receive());
    // Everything already waiting in the mailbox first: control messages go ahead of the queue.
    for (;;) {
      auto m = co_await env.receive_for(0);
      if (!m) break;
      handle(std::move(*m));
    }
    if (queue.empty()) continue;
    auto [m, accepted_as_leader] = std::move(queue.front());
    queue.pop_front();
    const auto req = m.as<Alloc>()->req;
    // Buggy: what was queued while this node led is still served after it stepped down.
    const bool serve = leader || (!fixed && accepted_as_leader);
    if (!serve) {
      env.send(m.from, sim::make_payload<NotLeader>(req, peer_name));
      continue;
    }
    const std::int64_t number = next++;
    env.storage().put("ticket/" + std::to_string(number), env.name_of(m.from));
    co_await env.sync();
    env.send(m.from, sim::make_payload<Ticket>(req, number));
  }
}

sim::Task<void> booth(sim::Env& env, sim::HistoryRecorder& history, int client,
                      std::vector<sim::ProcessId> nodes, int tickets,
                      std::shared_ptr<Issued> issued) {
  const std::string me = env.name_of(env.self());
  std::size_t hint = 0;
  std::uint64_t req = 0;
  for (int n = 0; n < tickets; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 2'000'000));
    history.invoke(client, "alloc", me);
    std::optional<std::int64_t> got;
    for (int attempt = 0; attempt < 20 && !got; ++attempt) {
      const std::uint64_t r = ++req;
      env.send(nodes[hint], sim::make_payload<Alloc>(r));
      const sim::Time deadline = env.now() + kAllocTimeout;
      for (;;) {
        const sim::Duration left = deadline - env.now();
        if (left <= 0) break;
        const auto m = co_await env.receive_for(left);
        if (!m) break;
        if (const auto* t = m->as<Ticket>(); t && t->req == r) {
          got = t->number;
          break;
        }
        if (const auto* nl = m->as<NotLeader>(); nl && nl->req == r) {
          hint = env.name_of(nodes[0]) == nl->leader ? 0 : 1;
          break;
        }
      }
    }
    if (got) {
      issued->holders[*got].push_back(me);
      ++issued->version;
    }
    history.complete(client, got ? sim::OpType::kOk : sim::OpType::kInfo, "alloc",
                     got ? nlohmann::json(*got) : nlohmann::json(me));
  }
}

sim::Task<void> admin(sim::Env& env, std::vector<sim::ProcessId> nodes) {
  std::size_t leader = 0;
  for (int n = 0; n < kTransfers; ++n) {
    co_await env.sleep(sim::milliseconds(6) + static_cast<sim::Duration>(env.random() % 4'000'000));
    env.send(nodes[leader], sim::make_payload<Transfer>());
    for (;;) {
      const auto m = co_await env.receive();
      if (m.as<Transferred>()) break;
    }
    leader = 1 - leader;
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"step_down",
            "two allocator nodes hand ticket numbers out; an admin moves the leadership between "
            "them",
            {"buggy", "fixed"},
            {{"ticket-unique", "no ticket number is held by two booths"}},
            {}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    auto ids = std::make_shared<std::vector<sim::ProcessId>>();
    for (int i = 0; i < 2; ++i) {
      ids->push_back(
          sim.add_process("node" + std::to_string(i + 1),
                          [ids, i, fixed](sim::Env& env) { return node(env, ids, i, fixed); },
                          {.crashable = false, .client = false, .pausable = false}));
    }
    const std::vector<sim::ProcessId> nodes = *ids;
    auto issued = std::make_shared<Issued>();
    auto& history = sim.history();
    const int per_booth = std::max(1, sim.config().ops / kBooths);
    for (int b = 1; b <= kBooths; ++b) {
      sim.add_process("booth" + std::to_string(b),
                      [&history, b, nodes, per_booth, issued](sim::Env& env) {
                        return booth(env, history, b - 1, nodes, per_booth, issued);
                      },
                      {.crashable = false, .client = true});
    }
    sim.add_process("admin", [nodes](sim::Env& env) { return admin(env, nodes); },
                    {.crashable = false, .client = true});
    sim.add_invariant(
        "ticket-unique",
        sim::when_changed([issued] { return issued->version; },
                          [issued]() -> std::optional<sim::Finding> {
                            for (const auto& [number, who] : issued->holders) {
                              if (who.size() < 2) continue;
                              const auto name = "ticket " + std::to_string(number);
                              return sim::Finding{
                                  name + " issued twice (" + who[0] + ", " + who[1] + ")", {name}};
                            }
                            return std::nullopt;
                          }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the number N. The two `ticket` answers carrying N (sends by the nodes). The
// stale one is the answer of the node that had handed the leadership over (its last `handoff`
// send before the answer came after its last `handoff` delivery, if any): the old leader. Keys:
// its handoff send, the new leader's delivery of that handoff, the old leader's answer, the new
// leader's answer.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string number_text = between(msg, "ticket ", " issued");
  if (number_text.empty()) return {};
  const std::int64_t number = std::stoll(number_text);
  const auto answers = find_all(trace, [&](const TraceEvent& e) {
    return e.kind == EventKind::kSend && e.type == "ticket" &&
           payload(e).value("number", std::int64_t{-1}) == number;
  });
  if (answers.size() < 2) return {};
  for (const auto* stale : answers) {
    const auto* handoff = find_last(
        trace,
        [&](const TraceEvent& e) {
          return e.kind == EventKind::kSend && e.type == "handoff" && e.lane == stale->lane;
        },
        stale->seq);
    if (!handoff) continue;
    const auto* took_back = find_first(
        trace,
        [&](const TraceEvent& e) {
          return e.kind == EventKind::kDeliver && e.type == "handoff" && e.lane == stale->lane &&
                 e.seq < stale->seq;
        },
        handoff->seq);
    if (took_back) continue;  // it leads again: this answer is a leader's
    const TraceEvent* fresh = nullptr;
    for (const auto* a : answers) {
      if (a != stale && a->lane != stale->lane) fresh = a;
    }
    const auto* takeover = delivery_of(trace, *handoff);
    if (!fresh || !takeover) continue;
    return {handoff->seq, takeover->seq, stale->seq, fresh->seq};
  }
  return {};
}

}  // namespace step_down

Design make_step_down() {
  Design d;
  d.name = "step_down";
  d.bug =
      "an allocator node that hands its leadership over keeps numbering the allocations it had "
      "queued, and the new leader issues the same ticket numbers";
  d.system = std::make_unique<step_down::System>();
  d.invariant = "ticket-unique";
  d.faults = {sim::FaultKind::kDelay};
  d.ops = 60;
  d.held_out = true;
  d.label.kinds = {"expired_lease"};
  d.label.key_events = step_down::key_events;
  return d;
}

}  // namespace seer::bench::explain
