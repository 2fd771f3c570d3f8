// lease_reader: a key-rotation service whose leader, elected by a lease in the KV store, answers
// reads from its own memory.
//
// Spec. Two nodes run a signing-key rotation service. The leader is elected by the KV key
// `rotation/leader` = {holder, epoch, expires, version}: `expires` is the holder's clock plus
// 30 ms, `version` the current signing-key version. The holder renews the lease every 8 ms
// (compare-and-set on the key's revision) and rotates the key (version + 1) on every third renewal;
// a node that finds the lease expired takes it over with a compare-and-set (epoch + 1) and rotates
// the key at once (a new leader never signs with its predecessor's key). Clients ask either node
// for the current key version (`key_request{req}` -> `key_reply{req, version, node}`); the leader
// answers from its memory (it wrote the version itself), a follower reads the key through the
// leader of the KV store (linearizable). A client that gets no answer within 40 ms asks again.
// Invariant `fresh-key-version`: a read never returns a version older than one already in the
// store when the read began ("client1's read of the signing key from node1 returned version 3,
// but version 4 (node2's) was in the store before the read began").
// Operations (history): `read` per client request.
//
// Bug (variant `buggy`): the node believes it leads until a renewal is refused: a renewal that
// times out (a pause, a slow request) is taken as probably applied, and a renewal acknowledged
// late (it landed after the expiry it carried) as extending the lease. Meanwhile the lease expired
// in real time, the other node took it over and rotated the key; the old leader answers reads
// (those that queued up while it waited, and later ones) from memory, with the retired version.
// Fix (variant `fixed`): the leader answers from memory only while its lease is valid on its own
// clock (`now < expires` of the last renewal that was acknowledged); otherwise it reads through.
// Faults: delay, reorder, pause (the nodes may be paused; no clock skew: the lease's arithmetic
// is on one clock, and the bug does not need it).
//
// Label: `expired_lease`. The node's view is not a stale read of a replica (its last renewal's
// answer was fresh and the node never read the key again); it acted on the lease after the lease
// had expired and another node had taken it over.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"

#include <deque>

namespace seer::bench::explain {

using seer::explain::EventKind;

namespace lease_reader {

constexpr sim::Duration kTtl = sim::milliseconds(30);
constexpr sim::Duration kTick = sim::milliseconds(8);
constexpr sim::Duration kKvTimeout = sim::milliseconds(50);
constexpr sim::Duration kClientTimeout = sim::milliseconds(40);
const char* const kKey = "rotation/leader";

struct KeyRequest : sim::Payload {
  explicit KeyRequest(std::uint64_t r) : req(r) {}
  std::uint64_t req;
  std::string_view type() const override { return "key_request"; }
  nlohmann::json to_json() const override { return {{"req", req}}; }
};

struct KeyReply : sim::Payload {
  KeyReply(std::uint64_t r, std::int64_t v, std::string n)
      : req(r), version(v), node(std::move(n)) {}
  std::uint64_t req;
  std::int64_t version;
  std::string node;
  std::string_view type() const override { return "key_reply"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"version", version}, {"node", node}};
  }
};

struct Node {
  sim::Env& env;
  services::KvClient& kv;
  std::string me;
  bool fixed = false;
  bool leader = false;
  bool unsure = false;  // a rotation timed out: the store may hold a newer version than memory
  std::int64_t epoch = 0;
  std::int64_t revision = 0;
  std::int64_t version = 0;
  sim::Time expires = 0;  // on this node's clock
  int renewals = 0;
};

nlohmann::json lease_value(const Node& n, std::int64_t epoch, sim::Time expires,
                           std::int64_t version) {
  return {{"holder", n.me}, {"epoch", epoch}, {"expires", expires}, {"version", version}};
}

sim::Task<void> acquire(Node& n) {
  const auto got = co_await n.kv.get(kKey, services::KvRead::kLinearizable);
  if (got.timed_out) co_return;
  const sim::Time now = n.env.now();
  std::int64_t epoch = 1;
  std::int64_t version = 1;
  services::KvResult taken;
  if (got.status == services::KvStatus::kNotFound) {
    taken = co_await n.kv.create(kKey, lease_value(n, epoch, now + kTtl, version));
  } else if (got.value["holder"] == n.me && got.value["expires"].get<sim::Time>() > now) {
    // An earlier attempt of ours landed after all.
    n.leader = true;
    n.unsure = false;
    n.epoch = got.value["epoch"].get<std::int64_t>();
    n.revision = got.revision;
    n.version = got.value["version"].get<std::int64_t>();
    n.expires = got.value["expires"].get<sim::Time>();
    co_return;
  } else if (got.value["expires"].get<sim::Time>() <= now) {
    epoch = got.value["epoch"].get<std::int64_t>() + 1;
    version = got.value["version"].get<std::int64_t>() + 1;  // a new leader rotates the key
    taken = co_await n.kv.update(kKey, lease_value(n, epoch, now + kTtl, version), got.revision);
  } else {
    co_return;  // held by the other node
  }
  if (!taken.ok()) co_return;
  n.leader = true;
  n.unsure = false;
  n.epoch = epoch;
  n.revision = taken.revision;
  n.version = version;
  n.expires = now + kTtl;
  n.renewals = 0;
}

sim::Task<void> tick(Node& n) {
  if (!n.leader) {
    co_await acquire(n);
    co_return;
  }
  if (n.unsure) {  // learn what the store holds before answering from memory again
    const auto got = co_await n.kv.get(kKey, services::KvRead::kLinearizable);
    if (got.timed_out) co_return;
    if (got.status == services::KvStatus::kOk && got.value["holder"] == n.me &&
        got.value["epoch"].get<std::int64_t>() == n.epoch) {
      n.revision = got.revision;
      n.version = got.value["version"].get<std::int64_t>();
      n.expires = got.value["expires"].get<sim::Time>();
      n.unsure = false;
    } else {
      n.leader = false;
      n.unsure = false;
    }
    co_return;
  }
  const bool rotate = ++n.renewals % 3 == 0;
  const std::int64_t version = n.version + (rotate ? 1 : 0);
  const sim::Time now = n.env.now();
  const auto r =
      co_await n.kv.update(kKey, lease_value(n, n.epoch, now + kTtl, version), n.revision);
  if (r.ok()) {
    n.revision = r.revision;
    n.expires = now + kTtl;
    n.version = version;
  } else if (r.timed_out) {
    // The renewal may or may not have applied. The team took it as applied: the node still leads.
    // A rotation that may have applied leaves memory possibly behind the store (both variants).
    if (rotate) n.unsure = true;
  } else {
    n.leader = false;  // refused: someone else holds the lease
  }
}

sim::Task<void> serve(Node& n, const sim::Message& m) {
  const auto* request = m.as<KeyRequest>();
  if (!request) co_return;
  const bool from_memory = n.leader && !n.unsure && (!n.fixed || n.env.now() < n.expires);
  if (from_memory) {
    n.env.send(m.from, sim::make_payload<KeyReply>(request->req, n.version, n.me));
    co_return;
  }
  const auto got = co_await n.kv.get(kKey, services::KvRead::kLinearizable);
  if (got.timed_out || got.status != services::KvStatus::kOk) co_return;  // the client asks again
  n.env.send(m.from, sim::make_payload<KeyReply>(request->req,
                                                 got.value["version"].get<std::int64_t>(), n.me));
}

sim::Task<void> node(sim::Env& env, sim::ProcessId kv_store, bool fixed, std::string me) {
  std::deque<sim::Message> pending;
  services::KvClient kv(env, kv_store, kKvTimeout, &pending, env.random());
  Node n{env, kv, std::move(me)};
  n.fixed = fixed;
  sim::Time next_tick = env.now();
  for (;;) {
    if (!pending.empty()) {
      const sim::Message m = std::move(pending.front());
      pending.pop_front();
      co_await serve(n, m);
      continue;
    }
    if (env.now() >= next_tick) {
      co_await tick(n);
      next_tick = env.now() + kTick;
      continue;
    }
    auto m = co_await env.receive_for(next_tick - env.now());
    if (m) pending.push_back(std::move(*m));
  }
}

// What the store held when each read began (for the invariant).
struct Oracle {
  std::shared_ptr<const services::VersionedStore> truth;
  std::map<std::pair<int, std::uint64_t>, std::pair<std::int64_t, std::string>> begun;
  std::string violation;

  void begin(int client, std::uint64_t op) {
    const auto v = truth->latest(kKey);
    if (!v.exists) {
      begun[{client, op}] = {0, ""};
      return;
    }
    begun[{client, op}] = {v.value["version"].get<std::int64_t>(),
                           v.value["holder"].get<std::string>()};
  }
  void returned(int client, std::uint64_t op, const std::string& node, std::int64_t version) {
    const auto& [latest, holder] = begun[{client, op}];
    if (version < latest && violation.empty()) {
      violation = "client" + std::to_string(client) + "'s read of the signing key from " + node +
                  " returned version " + std::to_string(version) + ", but version " +
                  std::to_string(latest) + " (" + holder +
                  "'s) was in the store before the read began";
    }
  }
};

sim::Task<void> client(sim::Env& env, sim::HistoryRecorder& history,
                       std::vector<sim::ProcessId> nodes, int id, int reads,
                       std::shared_ptr<Oracle> oracle) {
  std::uint64_t req = 0;
  for (int op = 0; op < reads; ++op) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 3'000'000));
    history.invoke(id, "read", nullptr);
    oracle->begin(id, static_cast<std::uint64_t>(op));
    std::size_t target = env.random() % nodes.size();
    for (;;) {
      const std::uint64_t mine = ++req;
      env.send(nodes[target], sim::make_payload<KeyRequest>(mine));
      const sim::Time deadline = env.now() + kClientTimeout;
      std::optional<sim::Message> m;
      const KeyReply* reply = nullptr;
      while (env.now() < deadline) {
        m = co_await env.receive_for(deadline - env.now());
        if (!m) break;
        reply = m->as<KeyReply>();
        if (reply && reply->req == mine) break;
        reply = nullptr;
      }
      if (reply) {
        oracle->returned(id, static_cast<std::uint64_t>(op), reply->node, reply->version);
        history.complete(id, sim::OpType::kOk, "read", reply->version);
        break;
      }
      target = (target + 1) % nodes.size();  // ask the other node
    }
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"lease_reader",
            "a key-rotation service whose lease-elected leader answers reads from memory",
            {"buggy", "fixed"},
            {{"fresh-key-version",
              "a read never returns a key version older than one in the store when it began"}},
            {{"kv", {"linearizable"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(sim, "kv", services::kv_config("linearizable"));
    std::vector<sim::ProcessId> nodes;
    for (int i = 1; i <= 2; ++i) {
      nodes.push_back(sim.add_process("node" + std::to_string(i),
                                      [k = kv.process, fixed, i](sim::Env& env) {
                                        return node(env, k, fixed, "node" + std::to_string(i));
                                      },
                                      {.crashable = true, .client = false}));
    }
    auto oracle = std::make_shared<Oracle>();
    oracle->truth = kv.truth;
    auto& history = sim.history();
    const int clients = sim.config().clients_or(2);
    for (int c = 1; c <= clients; ++c) {
      const int share = sim.config().ops / clients + (c <= sim.config().ops % clients ? 1 : 0);
      sim.add_process("client" + std::to_string(c),
                      [&history, nodes, c, share, oracle](sim::Env& env) {
                        return client(env, history, nodes, c, share, oracle);
                      },
                      {.crashable = false, .client = true});
    }
    sim.add_invariant("fresh-key-version", [oracle]() -> std::optional<std::string> {
      if (oracle->violation.empty()) return std::nullopt;
      return oracle->violation;
    });
  }
};

// Label. From the message: client C, node N, the version v it returned, the holder M of the newer
// version. The cause: N's last lease write that the store acknowledged before its answer (the
// grant or renewal whose expiry passed: the store's reply send), N's answer to C carrying v (the
// act on the expired lease), and M's takeover of the lease under a newer epoch (the store's reply
// to M's compare-and-set).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string client = between(msg, "", "'s read of the signing key from ");
  const std::string node = between(msg, "'s read of the signing key from ", " returned version ");
  const std::string version = between(msg, " returned version ", ", but version ");
  const std::string holder = between(between(msg, ", but version ", ""), " (", "'s) was");
  if (client.empty() || node.empty() || version.empty() || holder.empty()) return {};
  const auto v = std::stoll(version);
  const auto* act = find_last(trace, [&](const TraceEvent& e) {
    return process_of(trace, e) == node && e.kind == EventKind::kSend && e.type == "key_reply" &&
           trace.processes.at(static_cast<std::size_t>(e.peer)) == client &&
           payload(e).value("version", std::int64_t{-1}) == v;
  });
  if (!act) return {};
  auto lease_write = [&trace](const std::string& who) {
    return [&trace, who](const TraceEvent& ev) -> const nlohmann::json* {
      if (ev.kind != EventKind::kSend || ev.type != "kv_reply" || process_of(trace, ev) != "kv" ||
          trace.processes.at(static_cast<std::size_t>(ev.peer)) != who ||
          payload(ev).value("status", "") != "ok") {
        return nullptr;
      }
      const auto* req = request_send_for(trace, ev);
      if (!req) return nullptr;
      const auto& p = payload(*req);
      const auto op = p.value("op", "");
      if ((op != "create" && op != "update") || !p.contains("value")) return nullptr;
      return &p["value"];
    };
  };
  const auto mine = lease_write(node);
  const auto* grant = find_last(
      trace, [&](const TraceEvent& e) { return mine(e) != nullptr; }, act->seq);
  if (!grant) return {};
  const auto epoch = (*mine(*grant)).value("epoch", std::int64_t{0});
  const auto theirs = lease_write(holder);
  const auto* takeover = find_first(
      trace,
      [&](const TraceEvent& e) {
        const auto* value = theirs(e);
        return value && value->value("epoch", std::int64_t{0}) > epoch;
      },
      grant->seq);
  if (!takeover || takeover->seq > act->seq) return {};
  return {grant->seq, act->seq, takeover->seq};
}

}  // namespace lease_reader

Design make_lease_reader() {
  Design d;
  d.name = "lease_reader";
  d.bug =
      "a leader that takes a timed-out lease renewal as applied answers reads from memory after "
      "its lease expired and the other node rotated the key";
  d.system = std::make_unique<lease_reader::System>();
  d.invariant = "fresh-key-version";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder, sim::FaultKind::kPause};
  d.ops = 60;
  d.held_out = true;
  d.label.kinds = {"expired_lease"};
  d.label.key_events = lease_reader::key_events;
  return d;
}

}  // namespace seer::bench::explain
