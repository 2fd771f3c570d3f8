// archiver: an audit-event archiver that batches queue messages into object-store files.
//
// Spec. A gateway enqueues audit events ({event, user, action}) on the at-least-once queue. An
// archiver consumes them: it adds each event to an in-memory batch and, once the batch holds four
// events (or the queue has nothing visible), writes the batch as one object
// (`archive/<life>-<n>` = {events: [...]}) to the object store. The archiver may crash and
// restart.
// Liveness property `every-event-archived`: within 1 s of the heal, every event the queue
// accepted is in some archive object ("audit event ev-17 is in no archive object, but its
// message was acknowledged"). After the heal crashed processes restart, and messages the archiver
// never acknowledged are delivered again.
// Operations (history): `audit` (the gateway's enqueue of an event).
//
// Bug (variant `buggy`): the archiver acknowledges each message as soon as it is in the batch
// (so the queue will not redeliver it while the batch fills), before the batch is written. A crash
// discards the batch with events whose messages were already acknowledged: nothing delivers them
// again, and they are never archived.
// Fix (variant `fixed`): acknowledge a batch's messages only after its object was written; a crash
// then loses only unacknowledged messages, which the queue delivers again after the visibility
// timeout (an event may be archived twice, never lost).
// Faults: delay, crash (the archiver may crash; the gateway, the queue and the object store do
// not).
//
// Label: `crash_lost_data`: the crash took back what the archiver had acknowledged (its batch was
// in memory only, the extreme of unsynced writes).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/object_store.hpp"
#include "seer/services/queue.hpp"

#include <memory>
#include <optional>
#include <set>

namespace seer::bench::explain {

namespace archiver {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr std::size_t kBatch = 4;
constexpr sim::Duration kTimeout = sim::milliseconds(50);
const char* const kActions[] = {"login", "logout", "read", "export", "delete"};

struct Oracle {
  std::vector<std::string> accepted;  // events the queue accepted, in order
};

sim::Task<void> gateway(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId queue,
                        int events, std::shared_ptr<Oracle> oracle) {
  services::QueueClient q(env, queue, kTimeout);
  for (int n = 1; n <= events; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 5'000'000));
    const std::string event = "ev-" + std::to_string(n);
    nlohmann::json body;
    body["event"] = event;
    body["user"] = "u" + std::to_string(env.random() % 5 + 1);
    body["action"] = kActions[env.random() % 5];
    history.invoke(0, "audit", event);
    for (;;) {
      const auto r = co_await q.enqueue(body);
      if (!r.timed_out) break;
    }
    oracle->accepted.push_back(event);
    history.complete(0, sim::OpType::kOk, "audit", event);
  }
  co_await env.sleep(sim::milliseconds(300));  // let the archiver drain the queue
}

sim::Task<void> archive(sim::Env& env, sim::ProcessId queue, sim::ProcessId store, bool fixed) {
  // A new life numbers its requests (and names its files) from a fresh random start.
  services::QueueClient q(env, queue, kTimeout, nullptr, env.random());
  services::ObjectClient objects(env, store, kTimeout, nullptr, env.random());
  const std::string life = std::to_string(env.random() % 1'000'000);
  int files = 0;
  nlohmann::json batch = nlohmann::json::array();
  std::vector<std::int64_t> unacked;  // fixed: the batch's messages, acked once it is written
  for (;;) {
    const auto got = co_await q.receive();
    if (got.timed_out) continue;
    if (got.found) {
      batch.push_back(got.body);
      if (fixed) {
        unacked.push_back(got.message_id);
      } else {
        co_await q.ack(got.message_id);  // early: it is in the batch now
      }
      if (batch.size() < kBatch) continue;
    } else if (batch.empty()) {
      co_await env.sleep(sim::milliseconds(3));
      continue;
    }
    // Write the batch (full, or nothing else to wait for).
    const std::string key = "archive/" + life + "-" + std::to_string(++files);
    nlohmann::json body;
    body["events"] = batch;
    for (;;) {
      const auto put = co_await objects.put(key, body);
      if (!put.timed_out) break;
    }
    for (const auto id : unacked) co_await q.ack(id);
    unacked.clear();
    batch = nlohmann::json::array();
  }
}

// Every accepted event that no archive object holds; the first names the finding.
std::optional<sim::Finding> missing_event(const Oracle& oracle,
                                          const services::VersionedStore& store) {
  std::set<std::string> archived;
  for (const auto& key : store.keys_at(store.revision(), "archive/")) {
    const auto v = store.latest(key);
    if (!v.exists || !v.value.is_object()) continue;
    for (const auto& e : v.value.value("events", nlohmann::json::array())) {
      if (e.is_object()) archived.insert(e.value("event", ""));
    }
  }
  for (const auto& event : oracle.accepted) {
    if (!archived.count(event)) {
      return sim::Finding{
          "audit event " + event + " is in no archive object, but its message was acknowledged",
          {event}};
    }
  }
  return std::nullopt;
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    sim::SystemInfo info;
    info.name = "archiver";
    info.description = "an archiver batches audit events from a queue into object-store files";
    info.variants = {"buggy", "fixed"};
    info.invariants = {};
    info.services = {{"queue", {"at-least-once"}}, {"object-store", {"strong"}}};
    info.liveness = {{"every-event-archived",
                      "within 1 s of the heal, every event the queue accepted is archived"}};
    return info;
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto queue = services::add_queue_service(sim, "queue");
    const auto store = services::add_object_store_service(sim, "objects", {});
    sim.add_process("archiver",
                    [q = queue.process, s = store.process, fixed](sim::Env& env) {
                      return archive(env, q, s, fixed);
                    },
                    {.crashable = true, .client = false});
    auto oracle = std::make_shared<Oracle>();
    auto& history = sim.history();
    const int events = sim.config().ops;
    sim.add_process("gateway",
                    [&history, q = queue.process, events, oracle](sim::Env& env) {
                      return gateway(env, history, q, events, oracle);
                    },
                    {.crashable = false, .client = true});
    sim.add_liveness("every-event-archived", sim::seconds(1),
                     [oracle, truth = store.truth] { return missing_event(*oracle, *truth); });
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the event E. The cause: the archiver's delivery of E's message (after which it
// was in the batch only), its acknowledgment of that message (the ack request's send), and the
// archiver's crash after that (the crash that discarded the batch). The last delivery of E before
// such a crash is the one that counts.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = trace.violation().value("message", "");
  // A liveness message starts with when it was due ("not within 1.000 s of the heal ...: ").
  const std::string head = "audit event ";
  const auto start = msg.find(head);
  const auto end = msg.find(" is in no archive");
  if (start == std::string::npos || end == std::string::npos || end < start) return {};
  const std::string event = msg.substr(start + head.size(), end - start - head.size());
  std::vector<std::uint64_t> best;
  for (const auto& d : trace.events) {
    if (d.kind != EventKind::kDeliver || d.type != "queue_reply" ||
        trace.lane_name(d.lane) != "archiver") {
      continue;
    }
    const auto& body = payload(d).value("body", nlohmann::json());
    if (!body.is_object() || body.value("event", "") != event) continue;
    const auto id = payload(d).value("message_id", std::int64_t{0});
    const TraceEvent* ack = nullptr;
    const TraceEvent* crash = nullptr;
    for (std::uint64_t s = d.seq + 1; s <= trace.events.size(); ++s) {
      const auto& e = trace.at(s);
      if (e.lane != d.lane) continue;
      if (e.kind == EventKind::kCrash) {
        crash = &e;
        break;
      }
      if (!ack && e.kind == EventKind::kSend && e.type == "queue_request" &&
          payload(e).value("op", "") == "ack" &&
          payload(e).value("message_id", std::int64_t{-1}) == id) {
        ack = &e;
      }
    }
    if (ack && crash) best = {d.seq, ack->seq, crash->seq};
  }
  return best;
}

}  // namespace archiver

Design make_archiver() {
  Design d;
  d.name = "archiver";
  d.bug =
      "an archiver acks queue messages when they enter its in-memory batch; a crash before the "
      "batch is written loses acknowledged events";
  d.system = std::make_unique<archiver::System>();
  d.invariant = "every-event-archived";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kCrash};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"crash_lost_data"};
  d.label.key_events = archiver::key_events;
  return d;
}

}  // namespace seer::bench::explain
