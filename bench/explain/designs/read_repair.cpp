// read_repair: a replicated register store whose read repair writes an older version back.
//
// Spec. Three replicas (`r1`, `r2`, `r3`, the design's own processes and messages) hold
// versioned config keys (`k1`..`k3`, each {version, value}, kept on local disk). A writer
// (`writer`, a client) writes each key's next version to all three (`write`; a replica applies it
// only if the version is newer than its own, and acknowledges) and counts it written on two
// acknowledgements. Two readers (`reader1`, `reader2`, clients) read a key from two random
// replicas (`read`), take the higher version and read-repair: the replica that answered the lower
// version is sent the higher one (`repair`, no answer), Dynamo-style.
// Invariant `replica-moves-forward`: a replica's version of a key never goes back ("replica r2
// took k3 back from version 9 to version 8").
// Operations (history): `write` by the writer, `read` by the readers.
//
// Bug (variant `buggy`): the repair handler overwrites the replica's copy with the repair's
// version unconditionally: the reader picked the higher of the two versions it saw, so the repair
// was assumed to carry news. But a repair is decided on a read, and the writer's next version may
// reach the replica before the repair does (a slow link, a latency spike): the repair then puts
// the older version back over it.
// Fix (variant `fixed`): a repair is applied like a write, only if its version is newer.
// Faults: delay, reorder.
//
// Label. `stale_derived_write` or `outdated_read`: the repair copies into one replica a version
// read from another, after the writer's newer version changed what that read returned
// (a derived write that a write overtook); and the reader decided to write the repaired replica
// on its read of that replica, which the writer's newer version outdated before the repair took
// effect (a lost update). Both name the same events. Key events: the reader's delivery of the
// lower answer (the repaired replica's) and of the higher one (the version copied), the writer's
// newer version taking effect at the repaired replica (its acknowledgement), and the repair's
// delivery there (where it went back).
#include "design.hpp"
#include "trace_lookup.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace seer::bench::explain {

namespace read_repair {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kKeys = 3;
constexpr int kReplicas = 3;
constexpr sim::Duration kTimeout = sim::milliseconds(20);

struct Write : sim::Payload {
  Write(std::uint64_t r, std::string k, std::int64_t v, std::string val)
      : req(r), key(std::move(k)), version(v), value(std::move(val)) {}
  std::uint64_t req;
  std::string key;
  std::int64_t version;
  std::string value;
  std::string_view type() const override { return "write"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"key", key}, {"version", version}, {"value", value}};
  }
};

struct WriteAck : sim::Payload {
  WriteAck(std::uint64_t r, std::string k, std::int64_t v)
      : req(r), key(std::move(k)), version(v) {}
  std::uint64_t req;
  std::string key;
  std::int64_t version;  // the replica's version after the write
  std::string_view type() const override { return "write_ack"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"key", key}, {"version", version}};
  }
};

struct Read : sim::Payload {
  Read(std::uint64_t r, std::string k) : req(r), key(std::move(k)) {}
  std::uint64_t req;
  std::string key;
  std::string_view type() const override { return "read"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"key", key}}; }
};

struct ReadReply : sim::Payload {
  ReadReply(std::uint64_t r, std::string k, std::int64_t v, std::string val)
      : req(r), key(std::move(k)), version(v), value(std::move(val)) {}
  std::uint64_t req;
  std::string key;
  std::int64_t version;
  std::string value;
  std::string_view type() const override { return "read_reply"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"key", key}, {"version", version}, {"value", value}};
  }
};

struct Repair : sim::Payload {
  Repair(std::string k, std::int64_t v, std::string val)
      : key(std::move(k)), version(v), value(std::move(val)) {}
  std::string key;
  std::int64_t version;
  std::string value;
  std::string_view type() const override { return "repair"; }
  nlohmann::json to_json() const override {
    return {{"key", key}, {"version", version}, {"value", value}};
  }
};

// A replica's copy of a key on its disk: "<version> <value>".
std::pair<std::int64_t, std::string> decode(const std::optional<std::string>& stored) {
  if (!stored) return {0, ""};
  const auto space = stored->find(' ');
  return {std::stoll(stored->substr(0, space)),
          space == std::string::npos ? "" : stored->substr(space + 1)};
}

sim::Task<void> replica(sim::Env& env, bool fixed) {
  auto& disk = env.storage();
  for (;;) {
    const sim::Message m = co_await env.receive();
    if (const auto* w = m.as<Write>()) {
      auto [version, value] = decode(disk.get(w->key));
      if (w->version > version) {
        disk.put(w->key, std::to_string(w->version) + " " + w->value);
        version = w->version;
      }
      env.send(m.from, sim::make_payload<WriteAck>(w->req, w->key, version));
    } else if (const auto* r = m.as<Read>()) {
      const auto [version, value] = decode(disk.get(r->key));
      env.send(m.from, sim::make_payload<ReadReply>(r->req, r->key, version, value));
    } else if (const auto* p = m.as<Repair>()) {
      const auto [version, value] = decode(disk.get(p->key));
      // The bug: the repair is taken to be newer, since the reader chose the higher version.
      if (!fixed || p->version > version) {
        disk.put(p->key, std::to_string(p->version) + " " + p->value);
      }
    }
  }
}

sim::Task<void> writer(sim::Env& env, sim::HistoryRecorder& history,
                       std::vector<sim::ProcessId> replicas, int writes) {
  std::map<std::string, std::int64_t> versions;
  std::uint64_t req = 0;
  for (int n = 1; n <= writes; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 2'000'000));
    const std::string key = "k" + std::to_string(env.random() % kKeys + 1);
    const std::int64_t version = ++versions[key];
    const std::string value = key + "-v" + std::to_string(version);
    history.invoke(0, "write", {{"key", key}, {"version", version}});
    const std::uint64_t r = ++req;
    for (const auto id : replicas) env.send(id, sim::make_payload<Write>(r, key, version, value));
    int acks = 0;
    const sim::Time deadline = env.now() + kTimeout;
    while (acks < 2) {
      const sim::Duration left = deadline - env.now();
      if (left <= 0) break;
      const auto m = co_await env.receive_for(left);
      if (!m) break;
      const auto* a = m->as<WriteAck>();
      if (a && a->req == r) ++acks;
    }
    history.complete(0, acks >= 2 ? sim::OpType::kOk : sim::OpType::kInfo, "write",
                     {{"key", key}, {"version", version}});
  }
}

sim::Task<void> reader(sim::Env& env, sim::HistoryRecorder& history, int process,
                       std::vector<sim::ProcessId> replicas, int reads) {
  std::uint64_t req = 0;
  for (int n = 1; n <= reads; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 2'000'000));
    const std::string key = "k" + std::to_string(env.random() % kKeys + 1);
    const std::size_t a = env.random() % replicas.size();
    const std::size_t b = (a + 1 + env.random() % (replicas.size() - 1)) % replicas.size();
    history.invoke(process, "read", {{"key", key}});
    const std::uint64_t r = ++req;
    env.send(replicas[a], sim::make_payload<Read>(r, key));
    env.send(replicas[b], sim::make_payload<Read>(r, key));
    std::map<sim::ProcessId, std::pair<std::int64_t, std::string>> answers;
    const sim::Time deadline = env.now() + kTimeout;
    while (answers.size() < 2) {
      const sim::Duration left = deadline - env.now();
      if (left <= 0) break;
      const auto m = co_await env.receive_for(left);
      if (!m) break;
      const auto* rep = m->as<ReadReply>();
      if (rep && rep->req == r) answers[m->from] = {rep->version, rep->value};
    }
    if (answers.size() < 2) {
      history.complete(process, sim::OpType::kFail, "read", {{"key", key}}, "timeout");
      continue;
    }
    const auto best =
        std::max_element(answers.begin(), answers.end(), [](const auto& x, const auto& y) {
          return x.second.first < y.second.first;
        })->second;
    for (const auto& [from, answer] : answers) {
      if (answer.first < best.first) {
        env.send(from, sim::make_payload<Repair>(key, best.first, best.second));
      }
    }
    history.complete(process, sim::OpType::kOk, "read", {{"key", key}, {"version", best.first}});
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"read_repair",
            "three replicas of versioned config keys, written to all and read from two with read "
            "repair",
            {"buggy", "fixed"},
            {{"replica-moves-forward", "a replica's version of a key never goes back"}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    std::vector<sim::ProcessId> replicas;
    for (int i = 1; i <= kReplicas; ++i) {
      replicas.push_back(sim.add_process("r" + std::to_string(i),
                                         [fixed](sim::Env& env) { return replica(env, fixed); },
                                         {.crashable = false, .client = false, .pausable = false}));
    }
    auto& history = sim.history();
    const int ops = sim.config().ops;
    sim.add_process(
        "writer",
        [&history, replicas, ops](sim::Env& env) { return writer(env, history, replicas, ops); },
        {.crashable = false, .client = true});
    for (int i = 1; i <= 2; ++i) {
      sim.add_process("reader" + std::to_string(i),
                      [&history, replicas, ops, i](sim::Env& env) {
                        return reader(env, history, i, replicas, ops);
                      },
                      {.crashable = false, .client = true});
    }
    // The highest version each replica has held of each key, as the check last saw it.
    auto seen = std::make_shared<std::map<std::pair<sim::ProcessId, std::string>, std::int64_t>>();
    sim.add_invariant(
        "replica-moves-forward", [&sim, replicas, seen]() -> std::optional<sim::Finding> {
          for (const auto id : replicas) {
            const auto disk = sim.disk(id);
            for (int k = 1; k <= kKeys; ++k) {
              const std::string key = "k" + std::to_string(k);
              const auto version = decode(disk.current(key)).first;
              auto& high = (*seen)[{id, key}];
              if (version < high) {
                return sim::Finding{"replica " + sim.process_name(id) + " took " + key +
                                        " back from version " + std::to_string(high) +
                                        " to version " + std::to_string(version),
                                    {key}};
              }
              high = version;
            }
          }
          return std::nullopt;
        });
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the replica R, the key K, the versions H (lost) and L (put back). The repair
// of K carrying L delivered to R (the last before the violation): where it went back. Its send's
// reader P; P's read of K that the repair came from: the latest delivery to P, up to the repair's
// send, of a read_reply for K carrying L from another replica (the higher answer), and the same
// request's reply from R (the lower one). The writer's version H taking effect at R: R's
// write_ack for K with version H (before the repair's delivery).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string replica = between(msg, "replica ", " took ");
  const std::string key = between(msg, " took ", " back from version ");
  const std::string high_text = between(msg, " back from version ", " to version ");
  const std::string low_text = between(msg, " to version ", "");
  if (replica.empty() || key.empty() || high_text.empty() || low_text.empty()) return {};
  const std::int64_t high = std::stoll(high_text);
  const std::int64_t low = std::stoll(low_text);
  const auto* repaired = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kDeliver && e.type == "repair" &&
               process_of(trace, e) == replica && payload(e).value("key", "") == key &&
               payload(e).value("version", std::int64_t{-1}) == low;
      },
      violation_event(trace) + 1);
  if (!repaired) return {};
  const auto* repair_send = send_of(trace, *repaired);
  if (!repair_send) return {};
  const int reader = repair_send->lane;
  // The read the repair came from: the latest answer carrying L from another replica before the
  // repair's send, and the same request's answer from R (a late answer to an earlier read of the
  // reader's may come in between: it is not the one the repair was decided on).
  const auto* higher = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kDeliver && e.lane == reader && e.type == "read_reply" &&
               trace.lane_name(e.peer) != replica && payload(e).value("key", "") == key &&
               payload(e).value("version", std::int64_t{-1}) == low;
      },
      repair_send->seq + 1);
  if (!higher) return {};
  const auto req = payload(*higher).value("req", std::uint64_t{0});
  const auto* lower = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kDeliver && e.lane == reader && e.type == "read_reply" &&
               trace.lane_name(e.peer) == replica &&
               payload(e).value("req", std::uint64_t{0}) == req &&
               payload(e).value("key", "") == key;
      },
      repair_send->seq);
  if (!lower) return {};
  const auto* overwritten = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kSend && e.type == "write_ack" &&
               process_of(trace, e) == replica && payload(e).value("key", "") == key &&
               payload(e).value("version", std::int64_t{-1}) == high;
      },
      repaired->seq);
  std::vector<std::uint64_t> keys = {lower->seq, higher->seq};
  if (overwritten) keys.push_back(overwritten->seq);
  keys.push_back(repaired->seq);
  return keys;
}

}  // namespace read_repair

Design make_read_repair() {
  Design d;
  d.name = "read_repair";
  d.bug =
      "a read repair overwrites a replica's copy unconditionally and puts an older version back "
      "over the writer's newer one";
  d.system = std::make_unique<read_repair::System>();
  d.invariant = "replica-moves-forward";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"stale_derived_write", "outdated_read"};
  d.label.why_several =
      "the repair copies a version read from one replica into another after the writer's newer "
      "version overtook that read (a derived write), and was decided on the repaired replica's "
      "own read, which that newer version outdated before the repair took effect (a lost update)";
  d.label.key_events = read_repair::key_events;
  return d;
}

}  // namespace seer::bench::explain
