// batch_latch: a fan-in countdown latch in the KV store that loses a count.
//
// Spec. A planner splits each batch (`b1`, `b2`, ...) into three shards: it creates the batch's
// countdown latch in the KV store (`latch/<batch>` = {"batch", "remaining": 3}) and sends one
// shard to each of three workers (`worker1`..`worker3`). A worker processes its shard (1-10 ms),
// then counts the latch down by one; the worker that brings it to zero runs the batch's merge
// step, which records `merged/<batch>` in the KV store. Workers never crash; the planner submits
// a batch every few milliseconds.
// Liveness `every-batch-merges`: within 1 s of the heal, every submitted batch has been merged
// ("batch b4 never merged: latch/b4 still counts 1 though all 3 of its shards finished").
// Operations (history): `submit` per batch by the planner.
//
// Bug (variant `buggy`): the count-down is a read-modify-write with no condition: get the latch,
// put remaining - 1. Two workers finishing shards of one batch at about the same time both read
// the same count and both write the same value: one count is lost, the latch never reaches zero
// and nothing ever merges the batch (no process is left with anything to do for it).
// Fix (variant `fixed`): the count-down is a compare-and-set on the latch's revision (`update`
// with the revision read), retried from a fresh read on conflict.
// Faults: delay, reorder.
//
// Label. `outdated_read`: the lost update: the worker's read of the latch (its delivery), the
// other worker's count-down that took effect after that read was served (the latest before the
// decision), and the worker's put of the stale count (where it took effect).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"

#include <deque>
#include <memory>
#include <optional>
#include <set>

namespace seer::bench::explain {

namespace batch_latch {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kWorkers = 3;
constexpr sim::Duration kKvTimeout = sim::seconds(1);

struct Shard : sim::Payload {
  Shard(std::string b, int s) : batch(std::move(b)), shard(s) {}
  std::string batch;
  int shard;
  std::string_view type() const override { return "shard"; }
  nlohmann::json to_json() const override { return {{"batch", batch}, {"shard", shard}}; }
};

// Simulation bookkeeping: what was submitted and which shards finished (their count-down was
// acknowledged), for the liveness message.
struct Oracle {
  std::vector<std::string> submitted;
  std::map<std::string, int> finished;
};

sim::Task<void> planner(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId kv_store,
                        std::vector<sim::ProcessId> workers, int batches,
                        std::shared_ptr<Oracle> oracle) {
  services::KvClient kv(env, kv_store, kKvTimeout);
  for (int n = 1; n <= batches; ++n) {
    co_await env.sleep(sim::milliseconds(2) + static_cast<sim::Duration>(env.random() % 4'000'000));
    const std::string batch = "b" + std::to_string(n);
    history.invoke(0, "submit", batch);
    const nlohmann::json latch = {{"batch", batch}, {"remaining", kWorkers}};
    for (;;) {
      const auto r = co_await kv.create("latch/" + batch, latch);
      if (!r.timed_out) break;  // a conflict is our own earlier attempt
    }
    oracle->submitted.push_back(batch);
    for (int w = 0; w < kWorkers; ++w) env.send(workers[w], sim::make_payload<Shard>(batch, w + 1));
    history.complete(0, sim::OpType::kOk, "submit", batch);
  }
}

sim::Task<void> worker(sim::Env& env, sim::ProcessId kv_store, bool fixed,
                       std::shared_ptr<Oracle> oracle) {
  std::deque<sim::Message> inbox;  // shards that arrive while the worker talks to the store
  services::KvClient kv(env, kv_store, kKvTimeout, &inbox);
  for (;;) {
    sim::Message m;
    if (!inbox.empty()) {
      m = std::move(inbox.front());
      inbox.pop_front();
    } else {
      m = co_await env.receive();
    }
    const auto* s = m.as<Shard>();
    if (!s) continue;
    const std::string batch = s->batch;
    // Process the shard.
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 9'000'000));
    const std::string key = "latch/" + batch;
    std::int64_t left = -1;
    for (;;) {
      const auto got = co_await kv.get(key);
      if (got.timed_out || !got.ok()) continue;
      left = got.value.value("remaining", std::int64_t{0}) - 1;
      const nlohmann::json next = {{"batch", batch}, {"remaining", left}};
      if (!fixed) {
        auto put = co_await kv.put(key, next);
        while (put.timed_out) put = co_await kv.put(key, next);
        break;
      }
      const auto cas = co_await kv.update(key, next, got.revision);
      if (cas.ok()) break;
      // A conflict: another worker counted down first; read again. (No timeouts at these
      // latencies; a timed-out update is retried from a fresh read too.)
    }
    ++oracle->finished[batch];
    if (left == 0) {
      const nlohmann::json merged = {{"batch", batch}, {"by", env.name_of(env.self())}};
      auto r = co_await kv.put("merged/" + batch, merged);
      while (r.timed_out) r = co_await kv.put("merged/" + batch, merged);
    }
  }
}

std::optional<sim::Finding> batch_not_merged(const Oracle& oracle,
                                             const services::VersionedStore& store) {
  for (const auto& batch : oracle.submitted) {
    if (store.latest("merged/" + batch).exists) continue;
    const auto latch = store.latest("latch/" + batch);
    const auto remaining = latch.exists ? latch.value.value("remaining", std::int64_t{-1}) : -1;
    const auto finished = oracle.finished.count(batch) ? oracle.finished.at(batch) : 0;
    return sim::Finding{"batch " + batch + " never merged: latch/" + batch + " still counts " +
                            std::to_string(remaining) + " though " + std::to_string(finished) +
                            " of its " + std::to_string(kWorkers) + " shards finished",
                        {"latch/" + batch}};
  }
  return std::nullopt;
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"batch_latch",
            "workers count a batch's latch down in the KV store; the last one merges the batch",
            {"buggy", "fixed"},
            {},
            {{"kv", {"linearizable"}}},
            {},
            {},
            {{"every-batch-merges", "within 1 s of the heal, every submitted batch is merged"}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(sim, "kv", services::KvConfig{});
    auto oracle = std::make_shared<Oracle>();
    std::vector<sim::ProcessId> workers;
    for (int w = 1; w <= kWorkers; ++w) {
      workers.push_back(sim.add_process(
          "worker" + std::to_string(w),
          [k = kv.process, fixed, oracle](sim::Env& env) { return worker(env, k, fixed, oracle); },
          {.crashable = false, .client = false, .pausable = false}));
    }
    auto& history = sim.history();
    const int batches = sim.config().ops;
    sim.add_process("planner",
                    [&history, k = kv.process, workers, batches, oracle](sim::Env& env) {
                      return planner(env, history, k, workers, batches, oracle);
                    },
                    {.crashable = false, .client = true});
    sim.add_liveness("every-batch-merges", sim::seconds(1),
                     [oracle, truth = kv.truth]() { return batch_not_merged(*oracle, *truth); });
  }
};

// --- Label -------------------------------------------------------------------------------------

// One request to the KV store on the latch, with where it took effect and where its requester
// learned the answer.
struct Access {
  const TraceEvent* request = nullptr;  // the requester's send
  const TraceEvent* served = nullptr;   // the store's reply send
  const TraceEvent* learned = nullptr;  // the reply's delivery to the requester
  std::string op;
};

// From the message: the batch B. The accesses to latch/B by the workers, in the order the store
// served them. The first put P whose worker's preceding get was served before another worker's
// put took effect (a lost update): the keys are that get's delivery, the other worker's put (the
// latest such before P) and P, both where they took effect.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = trace.violation().value("message", "");
  const auto a = msg.find("batch ");
  const auto b = msg.find(" never merged");
  if (a == std::string::npos || b == std::string::npos || b <= a + 6) return {};
  const std::string batch = msg.substr(a + 6, b - a - 6);
  const std::string key = "latch/" + batch;
  std::map<std::pair<int, std::uint64_t>, Access> by_req;  // (requester lane, req)
  std::vector<std::pair<int, std::uint64_t>> order;        // in the order served
  for (const auto& e : trace.events) {
    if (e.kind == EventKind::kSend && e.type == "kv_request" &&
        payload(e).value("key", "") == key && trace.lane_name(e.lane).rfind("worker", 0) == 0) {
      auto& acc = by_req[{e.lane, payload(e).value("req", std::uint64_t{0})}];
      if (!acc.request) {
        acc.request = &e;
        acc.op = payload(e).value("op", "");
      }
    } else if (e.type == "kv_reply" &&
               (e.kind == EventKind::kSend || e.kind == EventKind::kDeliver)) {
      const int requester = e.kind == EventKind::kSend ? e.peer : e.lane;
      const auto it = by_req.find({requester, payload(e).value("req", std::uint64_t{0})});
      if (it == by_req.end()) continue;
      if (e.kind == EventKind::kSend && !it->second.served) {
        it->second.served = &e;
        order.push_back(it->first);
      } else if (e.kind == EventKind::kDeliver && !it->second.learned) {
        it->second.learned = &e;
      }
    }
  }
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto& put = by_req.at(order[i]);
    if (put.op != "put") continue;
    // The worker's latest get of the latch before it sent this put.
    const Access* read = nullptr;
    for (const auto& [id, acc] : by_req) {
      if (id.first != order[i].first || acc.op != "get" || !acc.served || !acc.learned) continue;
      if (acc.learned->seq > put.request->seq) continue;
      if (!read || acc.served->seq > read->served->seq) read = &acc;
    }
    if (!read) continue;
    const Access* overtaking = nullptr;
    for (std::size_t j = 0; j < i; ++j) {
      const auto& other = by_req.at(order[j]);
      if (order[j].first == order[i].first || other.op != "put") continue;
      if (other.served->seq > read->served->seq) overtaking = &other;
    }
    if (!overtaking) continue;
    return {read->learned->seq, overtaking->served->seq, put.served->seq};
  }
  return {};
}

}  // namespace batch_latch

Design make_batch_latch() {
  Design d;
  d.name = "batch_latch";
  d.bug =
      "two workers count a batch's latch down with get-then-put; one count is lost and the "
      "batch never merges";
  d.system = std::make_unique<batch_latch::System>();
  d.invariant = "every-batch-merges";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder};
  d.ops = 8;
  d.held_out = true;
  d.label.kinds = {"outdated_read"};
  d.label.key_events = batch_latch::key_events;
  return d;
}

}  // namespace seer::bench::explain
