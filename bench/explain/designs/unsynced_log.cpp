// unsynced_log: an ID allocator that persists its counter on local disk.
//
// Spec. An allocator process hands out unique ids (`alloc_request{req}` -> `alloc_reply{req, id}`)
// from a counter it keeps on its local disk (key `next`), so that a restart continues where it
// left off. Three clients allocate ids and retry on a 30 ms timeout.
// Invariant `ids-unique`: no id is handed out twice ("id 17 was issued twice (to client1 and
// client3)"; an id counts as issued when a client received it).
// Operations (history): `alloc` per client request.
//
// Bug (variant `buggy`): group commit done wrong: the allocator writes the new counter, answers at
// once, and syncs the disk only after every fourth allocation (fsync is slow). A crash loses the
// unsynced counter; after the restart the allocator hands out ids it had already acknowledged.
// Fix (variant `fixed`): sync before answering.
// Faults: delay, reorder, crash (only the allocator can crash).
#include "design.hpp"
#include "trace_lookup.hpp"

#include <map>

namespace seer::bench::explain {

using seer::explain::EventKind;

namespace unsynced_log {

constexpr int kClients = 3;
constexpr sim::Duration kTimeout = sim::milliseconds(30);

struct AllocRequest : sim::Payload {
  explicit AllocRequest(std::uint64_t r) : req(r) {}
  std::uint64_t req;
  std::string_view type() const override { return "alloc_request"; }
  nlohmann::json to_json() const override { return {{"req", req}}; }
};

struct AllocReply : sim::Payload {
  AllocReply(std::uint64_t r, std::int64_t i) : req(r), id(i) {}
  std::uint64_t req;
  std::int64_t id;
  std::string_view type() const override { return "alloc_reply"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"id", id}}; }
};

struct Oracle {
  std::map<std::int64_t, std::string> issued;  // id -> the client that received it
  std::string violation;
};

sim::Task<void> allocator(sim::Env& env, bool fixed) {
  const auto stored = env.storage().get("next");
  std::int64_t next = stored ? std::stoll(*stored) : 1;
  int unsynced = 0;
  for (;;) {
    const auto m = co_await env.receive();
    const auto* request = m.as<AllocRequest>();
    if (!request) continue;
    const std::int64_t id = next++;
    env.storage().put("next", std::to_string(next));
    if (fixed) co_await env.sync();
    env.send(m.from, sim::make_payload<AllocReply>(request->req, id));
    if (!fixed && ++unsynced == 4) {
      unsynced = 0;
      co_await env.sync();
    }
  }
}

sim::Task<void> client(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId alloc, int id,
                       int count, std::shared_ptr<Oracle> oracle) {
  const std::string me = "client" + std::to_string(id);
  std::uint64_t next_req = 1;
  for (int n = 0; n < count; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 5'000'000));
    history.invoke(id, "alloc", nullptr);
    std::int64_t got = -1;
    while (got < 0) {
      const std::uint64_t req = next_req++;
      env.send(alloc, sim::make_payload<AllocRequest>(req));
      const sim::Time deadline = env.now() + kTimeout;
      for (;;) {
        const sim::Duration left = deadline - env.now();
        if (left <= 0) break;
        auto m = co_await env.receive_for(left);
        if (!m) break;
        const auto* reply = m->as<AllocReply>();
        if (reply && reply->req == req) {
          got = reply->id;
          break;
        }
      }
    }
    history.complete(id, sim::OpType::kOk, "alloc", got);
    const auto [it, fresh] = oracle->issued.emplace(got, me);
    if (!fresh && oracle->violation.empty()) {
      oracle->violation =
          "id " + std::to_string(got) + " was issued twice (to " + it->second + " and " + me + ")";
    }
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"unsynced_log",
            "an id allocator keeps its counter on local disk; three clients allocate ids",
            {"buggy", "fixed"},
            {{"ids-unique", "no id is handed out twice"}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto alloc =
        sim.add_process("allocator", [fixed](sim::Env& env) { return allocator(env, fixed); },
                        {.crashable = true, .client = false});
    auto oracle = std::make_shared<Oracle>();
    auto& history = sim.history();
    const int clients = sim.config().clients_or(kClients);
    for (int c = 0; c < clients; ++c) {
      const int share = sim.config().ops / clients + (c < sim.config().ops % clients ? 1 : 0);
      sim.add_process("client" + std::to_string(c + 1),
                      [&history, alloc, c, share, oracle](sim::Env& env) {
                        return client(env, history, alloc, c + 1, share, oracle);
                      },
                      {.crashable = false, .client = true});
    }
    sim.add_invariant("ids-unique", [oracle]() -> std::optional<std::string> {
      if (oracle->violation.empty()) return std::nullopt;
      return oracle->violation;
    });
  }
};

// Label. From the message: the id X. The cause: the allocator's write of the counter past X (the
// storage_write in the life that first answered X), its answer carrying X (the acknowledgment sent
// before the write was durable), and the crash that lost the write.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string x = between(violation_message(trace), "id ", " was issued twice");
  if (x.empty()) return {};
  const auto id = std::stoll(x);
  const int alloc = lane_of(trace, "allocator");
  const auto* first = find_first(trace, [&](const TraceEvent& e) {
    return e.lane == alloc && e.kind == EventKind::kSend && e.type == "alloc_reply" &&
           payload(e).value("id", std::int64_t{-1}) == id;
  });
  if (!first) return {};
  const auto* write = find_last(
      trace,
      [&](const TraceEvent& e) { return e.lane == alloc && e.kind == EventKind::kStorageWrite; },
      first->seq);
  const auto* crash = find_first(
      trace, [&](const TraceEvent& e) { return e.lane == alloc && e.kind == EventKind::kCrash; },
      first->seq);
  if (!write || !crash) return {};
  return {write->seq, first->seq, crash->seq};
}

}  // namespace unsynced_log

Design make_unsynced_log() {
  Design d;
  d.name = "unsynced_log";
  d.bug = "an id allocator answers before syncing its counter; a crash makes it reissue ids";
  d.system = std::make_unique<unsynced_log::System>();
  d.invariant = "ids-unique";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder, sim::FaultKind::kCrash};
  d.ops = 60;
  d.label.kinds = {"crash_lost_data"};
  d.label.key_events = unsynced_log::key_events;
  return d;
}

}  // namespace seer::bench::explain
