// replica_rmw: an order pipeline whose steps read-modify-write one document in the KV store.
//
// Spec. An intake process creates order documents `order/<n>` = {"order": n, "done": ["intake"]}
// in the KV store and hands each order to the first of three workers (validate, price, pack) with
// a `step_task{order}` message; each worker reads the document, appends its step to `done`, writes
// the document back, and hands the order to the next worker. Steps of one order never overlap: a
// worker starts only after the previous one's write was acknowledged.
// Invariant `steps-kept`: a write never drops a step the document had ("order/4 lost step price:
// revision 37 has [intake,validate] but revision 35 had [intake,validate,price]").
// Operations (history): `order` (intake).
//
// Bug (variant `buggy`): the team reads with the KV store's default serializable reads (any
// replica answers: fast, but a follower may lag; the store runs `stale-bounded`). A worker that
// reads the document from a lagging follower misses the previous step's write and writes back a
// document without it.
// Fix (variant `fixed`): linearizable reads (through the leader) for the read-modify-write.
// Faults: delay, drop (no duplicates or reordering: a handoff is never processed twice).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"

#include <set>

namespace seer::bench::explain {

using seer::explain::EventKind;

namespace replica_rmw {

constexpr sim::Duration kTimeout = sim::milliseconds(50);
const char* const kSteps[] = {"validate", "price", "pack"};

struct StepTask : sim::Payload {
  explicit StepTask(std::int64_t o) : order(o) {}
  std::int64_t order;
  std::string_view type() const override { return "step_task"; }
  nlohmann::json to_json() const override { return {{"order", order}}; }
};

std::string key_of(std::int64_t order) {
  return "order/" + std::to_string(order);
}

sim::Task<void> intake(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId kv_store,
                       sim::ProcessId first, int orders) {
  services::KvClient kv(env, kv_store, kTimeout);
  for (std::int64_t n = 1; n <= orders; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 3'000'000));
    history.invoke(0, "order", n);
    nlohmann::json doc;
    doc["order"] = n;
    doc["done"] = nlohmann::json::array({"intake"});
    while (!(co_await kv.put(key_of(n), doc)).ok()) {
    }
    env.send(first, sim::make_payload<StepTask>(n));
    history.complete(0, sim::OpType::kOk, "order", n);
  }
  co_await env.sleep(sim::milliseconds(500));  // let the pipeline finish
}

sim::Task<void> worker(sim::Env& env, sim::ProcessId kv_store, sim::ProcessId next,
                       std::string step, bool fixed) {
  std::deque<sim::Message> inbox;
  services::KvClient kv(env, kv_store, kTimeout, &inbox);
  const auto read = fixed ? services::KvRead::kLinearizable : services::KvRead::kAny;
  for (;;) {
    sim::Message m;
    if (!inbox.empty()) {
      m = std::move(inbox.front());
      inbox.pop_front();
    } else {
      m = co_await env.receive();
    }
    const auto* task = m.as<StepTask>();
    if (!task) continue;
    const auto key = key_of(task->order);
    services::KvResult doc;
    for (;;) {
      doc = co_await kv.get(key, read);
      if (doc.ok()) break;
      co_await env.sleep(sim::milliseconds(2));  // not there yet (or timed out): read again
    }
    auto updated = doc.value;
    updated["done"].push_back(step);
    while (!(co_await kv.put(key, updated)).ok()) {
    }
    if (next != sim::kNoProcess) env.send(next, sim::make_payload<StepTask>(task->order));
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"replica_rmw",
            "an order pipeline: three workers read-modify-write each order's document in a KV "
            "store with serializable reads",
            {"buggy", "fixed"},
            {{"steps-kept", "a write never drops a step the order's document had"}},
            {{"kv", {"stale-bounded"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(sim, "kv", services::kv_config("stale-bounded"));
    // Process ids are assigned in order of addition: add the workers in pipeline order and hand
    // each the id of the next.
    const sim::ProcessId first_id = sim.process_count();
    for (int s = 0; s < 3; ++s) {
      const sim::ProcessId after = s < 2 ? first_id + s + 1 : sim::kNoProcess;
      sim.add_process(kSteps[s],
                      [k = kv.process, after, step = std::string(kSteps[s]), fixed](sim::Env& env) {
                        return worker(env, k, after, step, fixed);
                      },
                      {.crashable = false, .client = false});
    }
    auto& history = sim.history();
    const int orders = sim.config().ops;
    sim.add_process("intake",
                    [&history, k = kv.process, first_id, orders](sim::Env& env) {
                      return intake(env, history, k, first_id, orders);
                    },
                    {.crashable = false, .client = true});
    const auto truth = kv.truth;
    auto checked = std::make_shared<std::int64_t>(0);
    sim.add_invariant("steps-kept", [truth, checked]() -> std::optional<std::string> {
      if (*checked == truth->revision()) return std::nullopt;
      *checked = truth->revision();
      for (const auto& key : truth->keys_at(truth->revision(), "order/")) {
        const auto& versions = truth->versions(key);
        if (versions.size() < 2) continue;
        const auto& now = versions[versions.size() - 1];
        const auto& before = versions[versions.size() - 2];
        std::set<std::string> kept;
        for (const auto& s : now.value["done"]) kept.insert(s.get<std::string>());
        for (const auto& s : before.value["done"]) {
          if (!kept.count(s.get<std::string>())) {
            return key + " lost step " + s.get<std::string>() + ": revision " +
                   std::to_string(now.revision) + " has " + now.value["done"].dump() +
                   " but revision " + std::to_string(before.revision) + " had " +
                   before.value["done"].dump();
          }
        }
      }
      return std::nullopt;
    });
  }
};

// Label. From the message: the key K, the losing revision r and the previous revision p. The
// cause: the stale read of K by the writer of r (its last get reply for K before it sent the
// write), the write of revision p it missed (the store's reply: where it took effect), and the
// write of revision r based on the stale read (the store's reply).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string key = between(msg, "", " lost step ");
  const std::string r = between(msg, ": revision ", " has ");
  const std::string p = between(msg, " but revision ", " had ");
  if (key.empty() || r.empty() || p.empty()) return {};
  auto write_at = [&](const std::string& revision) {
    return find_first(trace, [&](const TraceEvent& e) {
      if (e.kind != EventKind::kSend || e.type != "kv_reply" || process_of(trace, e) != "kv" ||
          payload(e).value("status", "") != "ok" ||
          std::to_string(payload(e).value("revision", std::int64_t{-1})) != revision) {
        return false;
      }
      const auto* req = request_send_for(trace, e);
      return req && payload(*req).value("op", "") == "put" && payload(*req).value("key", "") == key;
    });
  };
  const auto* losing = write_at(r);
  const auto* missed = write_at(p);
  if (!losing || !missed) return {};
  const auto* losing_req = request_send_for(trace, *losing);
  const auto* read = find_last(
      trace,
      [&](const TraceEvent& e) {
        if (e.lane != losing_req->lane || e.kind != EventKind::kDeliver || e.type != "kv_reply")
          return false;
        const auto* req = request_send_for(trace, *send_of(trace, e));
        return req && payload(*req).value("op", "") == "get" &&
               payload(*req).value("key", "") == key;
      },
      losing_req->seq);
  if (!read) return {};
  return {read->seq, missed->seq, losing->seq};
}

}  // namespace replica_rmw

Design make_replica_rmw() {
  Design d;
  d.name = "replica_rmw";
  d.bug = "a pipeline step read-modify-writes a document read from a lagging replica";
  d.system = std::make_unique<replica_rmw::System>();
  d.invariant = "steps-kept";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kDrop};
  d.ops = 30;
  d.label.kinds = {"stale_read"};
  d.label.key_events = replica_rmw::key_events;
  return d;
}

}  // namespace seer::bench::explain
