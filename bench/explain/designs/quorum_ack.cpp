// quorum_ack: a replicated register whose write quorum counts acknowledgements, not replicas.
//
// Spec. Three replica servers (`replica1`..`replica3`, the design's own processes and messages)
// each hold a copy of three configuration keys (`cfg-1`..`cfg-3`), each a {version, value}. A
// replica makes a write durable in its log before it applies and acknowledges it: the flush takes
// 1-6 ms (a busy disk), and meanwhile it answers reads from what it has applied; it keeps the
// highest version of a key it was sent. A writer (the client-side coordinator, like a Dynamo-style
// driver) writes the next version of a key to all three replicas and reports it written once a
// majority (two) acknowledged it; it then tells a reader service, which reads the key from two
// replicas picked at random (a read quorum: any two intersect any write majority) and takes the
// highest version.
// Invariant `reads-see-acknowledged-writes`: a read that began after a version was acknowledged
// returns that version or a later one ("reader read cfg-2 at version 3 from replica2 and replica3,
// but version 4 had been acknowledged before the read began").
// Operations (history): `write` (key, version) by the writer, `read` (key) by the reader.
//
// Bug (variant `buggy`): the writer counts acknowledgement messages (`++acks`), not the replicas
// they came from. The network may deliver a message twice: a copy of one replica's
// acknowledgement (or of the write request sent to it, which the replica then acknowledges twice)
// counts as a second replica, and the write is reported written while only one replica has it. A
// read from the other two, before their slow flushes finish, misses it.
// Fix (variant `fixed`): the quorum is a set of replica ids; a copy from a replica already counted
// adds nothing.
// Faults: delay, duplicate.
//
// Label. `duplicate_delivery`: the network's copy of the message that was counted as a second
// replica's acknowledgement: the writer's two deliveries of one acknowledgement message, or (the
// write request duplicated) the replica's two deliveries of the write and the writer's delivery
// of its second acknowledgement, which completed the false majority.
#include "design.hpp"
#include "trace_lookup.hpp"

#include <deque>
#include <memory>
#include <optional>
#include <set>

namespace seer::bench::explain {

namespace quorum_ack {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kReplicas = 3;
constexpr int kQuorum = 2;
constexpr int kKeys = 3;
constexpr sim::Duration kWriteTimeout = sim::milliseconds(100);
constexpr sim::Duration kReadTimeout = sim::milliseconds(100);

struct ReplicaWrite : sim::Payload {
  ReplicaWrite(std::uint64_t r, std::string k, std::int64_t v, std::string val)
      : req(r), key(std::move(k)), version(v), value(std::move(val)) {}
  std::uint64_t req;
  std::string key;
  std::int64_t version;
  std::string value;
  std::string_view type() const override { return "replica_write"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"key", key}, {"version", version}, {"value", value}};
  }
};

struct WriteAck : sim::Payload {
  WriteAck(std::uint64_t r, std::string k, std::int64_t v, std::string rep)
      : req(r), key(std::move(k)), version(v), replica(std::move(rep)) {}
  std::uint64_t req;
  std::string key;
  std::int64_t version;
  std::string replica;
  std::string_view type() const override { return "write_ack"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"key", key}, {"version", version}, {"replica", replica}};
  }
};

struct ReplicaRead : sim::Payload {
  ReplicaRead(std::uint64_t r, std::string k) : req(r), key(std::move(k)) {}
  std::uint64_t req;
  std::string key;
  std::string_view type() const override { return "replica_read"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"key", key}}; }
};

struct ReadReply : sim::Payload {
  ReadReply(std::uint64_t r, std::string k, std::int64_t v, std::string val, std::string rep)
      : req(r), key(std::move(k)), version(v), value(std::move(val)), replica(std::move(rep)) {}
  std::uint64_t req;
  std::string key;
  std::int64_t version;
  std::string value;
  std::string replica;
  std::string_view type() const override { return "read_reply"; }
  nlohmann::json to_json() const override {
    return {
        {"req", req}, {"key", key}, {"version", version}, {"value", value}, {"replica", replica}};
  }
};

// The writer tells the reader service a new version is out.
struct Published : sim::Payload {
  Published(std::string k, std::int64_t v) : key(std::move(k)), version(v) {}
  std::string key;
  std::int64_t version;
  std::string_view type() const override { return "published"; }
  nlohmann::json to_json() const override { return {{"key", key}, {"version", version}}; }
};

// Simulation bookkeeping (the checker's, never the design's): the highest version of each key
// the writer reported written, and the first read that missed one.
struct Oracle {
  std::map<std::string, std::int64_t> acknowledged;
  std::optional<sim::Finding> violation;
};

sim::Task<void> replica(sim::Env& env) {
  struct Pending {
    sim::Time due;
    sim::ProcessId from;
    std::uint64_t req;
    std::string key;
    std::int64_t version;
    std::string value;
  };
  const std::string me = env.name_of(env.self());
  std::map<std::string, std::pair<std::int64_t, std::string>> applied;
  std::vector<Pending> flushing;  // writes in the log, not yet durable
  for (;;) {
    // Apply and acknowledge every write whose flush finished.
    for (auto it = flushing.begin(); it != flushing.end();) {
      if (it->due > env.now()) {
        ++it;
        continue;
      }
      auto& slot = applied[it->key];
      if (it->version > slot.first) slot = {it->version, it->value};
      env.send(it->from, sim::make_payload<WriteAck>(it->req, it->key, it->version, me));
      it = flushing.erase(it);
    }
    std::optional<sim::Message> m;
    if (flushing.empty()) {
      m = co_await env.receive();
    } else {
      sim::Time next = flushing.front().due;
      for (const auto& p : flushing) next = std::min(next, p.due);
      m = co_await env.receive_for(std::max<sim::Duration>(next - env.now(), 1));
    }
    if (!m) continue;
    if (const auto* w = m->as<ReplicaWrite>()) {
      const sim::Duration flush =
          sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 5'000'000);
      flushing.push_back({env.now() + flush, m->from, w->req, w->key, w->version, w->value});
    } else if (const auto* r = m->as<ReplicaRead>()) {
      const auto it = applied.find(r->key);
      const std::int64_t version = it == applied.end() ? 0 : it->second.first;
      const std::string value = it == applied.end() ? std::string() : it->second.second;
      env.send(m->from, sim::make_payload<ReadReply>(r->req, r->key, version, value, me));
    }
  }
}

sim::Task<void> writer(sim::Env& env, sim::HistoryRecorder& history,
                       std::vector<sim::ProcessId> replicas, sim::ProcessId reader, int writes,
                       bool fixed, std::shared_ptr<Oracle> oracle) {
  std::map<std::string, std::int64_t> versions;
  std::uint64_t req = 0;
  for (int n = 1; n <= writes; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 3'000'000));
    const std::string key = "cfg-" + std::to_string(env.random() % kKeys + 1);
    const std::int64_t version = ++versions[key];
    const std::string value = key + "-value-" + std::to_string(version);
    history.invoke(0, "write", nlohmann::json::array({key, version}));
    ++req;
    for (const auto r : replicas) {
      env.send(r, sim::make_payload<ReplicaWrite>(req, key, version, value));
    }
    int acks = 0;                    // buggy: acknowledgement messages
    std::set<sim::ProcessId> acked;  // fixed: replicas
    auto quorum = [&] {
      return fixed ? static_cast<int>(acked.size()) >= kQuorum : acks >= kQuorum;
    };
    const sim::Time deadline = env.now() + kWriteTimeout;
    while (!quorum()) {
      const sim::Duration left = deadline - env.now();
      if (left <= 0) break;
      const auto m = co_await env.receive_for(left);
      if (!m) break;
      const auto* a = m->as<WriteAck>();
      if (!a || a->req != req) continue;  // a late acknowledgement of an earlier write
      ++acks;
      acked.insert(m->from);
    }
    if (!quorum()) {
      history.complete(0, sim::OpType::kInfo, "write", nlohmann::json::array({key, version}),
                       "timeout");
      continue;
    }
    auto& known = oracle->acknowledged[key];
    known = std::max(known, version);
    history.complete(0, sim::OpType::kOk, "write", nlohmann::json::array({key, version}));
    env.send(reader, sim::make_payload<Published>(key, version));
  }
}

sim::Task<void> reader(sim::Env& env, sim::HistoryRecorder& history,
                       std::vector<sim::ProcessId> replicas, std::shared_ptr<Oracle> oracle) {
  std::deque<sim::Message> inbox;
  std::uint64_t req = 0;
  for (;;) {
    sim::Message m;
    if (!inbox.empty()) {
      m = std::move(inbox.front());
      inbox.pop_front();
    } else {
      m = co_await env.receive();
    }
    const auto* p = m.as<Published>();
    if (!p) continue;
    const std::string key = p->key;
    const std::size_t first = env.random() % kReplicas;
    const std::size_t second = (first + 1 + env.random() % (kReplicas - 1)) % kReplicas;
    const std::set<sim::ProcessId> asked = {replicas[first], replicas[second]};
    ++req;
    const std::int64_t floor = oracle->acknowledged[key];  // bookkeeping: acknowledged by now
    history.invoke(1, "read", key);
    for (const auto r : asked) env.send(r, sim::make_payload<ReplicaRead>(req, key));
    std::map<sim::ProcessId, std::int64_t> answers;
    const sim::Time deadline = env.now() + kReadTimeout;
    while (answers.size() < asked.size()) {
      const sim::Duration left = deadline - env.now();
      if (left <= 0) break;
      auto r = co_await env.receive_for(left);
      if (!r) break;
      const auto* reply = r->as<ReadReply>();
      if (!reply) {
        inbox.push_back(std::move(*r));
        continue;
      }
      if (reply->req != req || !asked.count(r->from)) continue;
      answers[r->from] = reply->version;
    }
    if (answers.size() < asked.size()) {
      history.complete(1, sim::OpType::kFail, "read", key, "timeout");
      continue;
    }
    std::int64_t best = 0;
    for (const auto& [from, version] : answers) best = std::max(best, version);
    history.complete(1, sim::OpType::kOk, "read", nlohmann::json::array({key, best}));
    if (best < floor && !oracle->violation) {
      oracle->violation =
          sim::Finding{"reader read " + key + " at version " + std::to_string(best) + " from " +
                           env.name_of(replicas[first]) + " and " + env.name_of(replicas[second]) +
                           ", but version " + std::to_string(floor) +
                           " had been acknowledged before the read began",
                       {key}};
    }
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"quorum_ack",
            "a writer replicates versions to three replicas and counts a majority of "
            "acknowledgements; a reader reads from two",
            {"buggy", "fixed"},
            {{"reads-see-acknowledged-writes",
              "a read that began after a version was acknowledged returns it or a later one"}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    auto oracle = std::make_shared<Oracle>();
    std::vector<sim::ProcessId> replicas;
    for (int r = 1; r <= kReplicas; ++r) {
      replicas.push_back(sim.add_process("replica" + std::to_string(r),
                                         [](sim::Env& env) { return replica(env); },
                                         {.crashable = false, .client = false, .pausable = false}));
    }
    auto& history = sim.history();
    const auto rd = sim.add_process("reader",
                                    [&history, replicas, oracle](sim::Env& env) {
                                      return reader(env, history, replicas, oracle);
                                    },
                                    {.crashable = false, .client = false, .pausable = false});
    const int writes = sim.config().ops;
    sim.add_process("writer",
                    [&history, replicas, rd, writes, fixed, oracle](sim::Env& env) {
                      return writer(env, history, replicas, rd, writes, fixed, oracle);
                    },
                    {.crashable = false, .client = true});
    sim.add_invariant("reads-see-acknowledged-writes",
                      [oracle]() -> std::optional<sim::Finding> { return oracle->violation; });
  }
};

// --- Label -------------------------------------------------------------------------------------

std::string between(const std::string& s, const std::string& open, const std::string& close) {
  const auto a = s.find(open);
  if (a == std::string::npos) return {};
  const auto from = a + open.size();
  const auto b = s.find(close, from);
  if (b == std::string::npos) return {};
  return s.substr(from, b - from);
}

// From the message: key K and the acknowledged version V the read missed. The writer's
// acknowledgement deliveries for (K, V) before it published V; the first two are the ones it
// counted. They came from one replica: either one message delivered twice (the keys are its two
// deliveries) or two acknowledgements of one write request the network delivered twice to the
// replica (the keys are the replica's two deliveries of the write, and the writer's delivery of
// the second acknowledgement).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = trace.violation().value("message", "");
  const std::string key = between(msg, "reader read ", " at version ");
  const std::string v = between(msg, "but version ", " had been");
  if (key.empty() || v.empty()) return {};
  const std::int64_t version = std::stoll(v);
  const int writer = [&] {
    for (std::size_t i = 0; i < trace.processes.size(); ++i)
      if (trace.processes[i] == "writer") return static_cast<int>(i);
    return -2;
  }();
  const TraceEvent* published = nullptr;
  for (const auto& e : trace.events) {
    if (e.kind == EventKind::kSend && e.lane == writer && e.type == "published" &&
        payload(e).value("key", "") == key && payload(e).value("version", -1) == version) {
      published = &e;
      break;
    }
  }
  if (!published) return {};
  std::vector<const TraceEvent*> acks;
  for (std::uint64_t s = 1; s < published->seq && acks.size() < 2; ++s) {
    const auto& e = trace.at(s);
    if (e.kind == EventKind::kDeliver && e.lane == writer && e.type == "write_ack" &&
        payload(e).value("key", "") == key && payload(e).value("version", -1) == version) {
      acks.push_back(&e);
    }
  }
  if (acks.size() < 2 || acks[0]->peer != acks[1]->peer) return {};
  if (acks[0]->message == acks[1]->message) return {acks[0]->seq, acks[1]->seq};
  // Two acknowledgements from one replica: it was sent the write twice.
  const int rep = acks[0]->peer;
  std::vector<const TraceEvent*> writes;
  for (std::uint64_t s = 1; s < acks[1]->seq; ++s) {
    const auto& e = trace.at(s);
    if (e.kind == EventKind::kDeliver && e.lane == rep && e.type == "replica_write" &&
        payload(e).value("key", "") == key && payload(e).value("version", -1) == version) {
      writes.push_back(&e);
    }
  }
  if (writes.size() < 2 || writes[0]->message != writes[1]->message) return {};
  return {writes[0]->seq, writes[1]->seq, acks[1]->seq};
}

}  // namespace quorum_ack

Design make_quorum_ack() {
  Design d;
  d.name = "quorum_ack";
  d.bug =
      "a write quorum counts acknowledgement messages, so a network copy of one replica's "
      "acknowledgement makes a majority of one";
  d.system = std::make_unique<quorum_ack::System>();
  d.invariant = "reads-see-acknowledged-writes";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kDuplicate};
  d.ops = 60;
  d.held_out = true;
  d.label.kinds = {"duplicate_delivery"};
  d.label.key_events = quorum_ack::key_events;
  return d;
}

}  // namespace seer::bench::explain
