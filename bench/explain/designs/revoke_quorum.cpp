// revoke_quorum: session revocation on three replicas, written to two and checked on one.
//
// Spec. Session tokens are checked against a revocation list kept by three replicas
// (`replica1`..`replica3`, the design's own processes, each on its local disk: `revoked/tok-N`).
// A logout (`user`) sends `revoke {req, token}` to all three and is acknowledged once two have
// stored it (a write quorum W = 2 of N = 3; a replica that has not acknowledged within 10 ms is
// sent the revoke again until two have). The API gateway (`gateway`) serves a request carrying a
// token after asking a replica whether the token is revoked (`check` -> `status {revoked}`),
// round robin over the three, the next one after 8 ms without an answer; it records each request
// it serves (`served/<token>/<req>` on its disk) and answers `allowed`.
// Invariant `no-use-after-logout`: no request is served with a token whose logout was
// acknowledged before the request was made ("token tok-7 was accepted after its logout was
// acknowledged"). The user's other browser tab replays each token right after the logout.
// Operations (history): `logout` and `replay` per token.
//
// Bug (variant `buggy`): the gateway asks one replica (R = 1). R + W = N: the read quorum need not
// meet the write quorum, and the replica it asks may be the one the revoke has not reached yet
// (slow on its link, or dropped and no longer resent once two had it). It answers "not revoked"
// and the gateway serves the replayed token.
// Fix (variant `fixed`): the gateway asks until two replicas have answered (R = 2, R + W > N) and
// refuses the token if either has it revoked.
// Faults: delay, reorder, drop.
//
// Label. `stale_read`: the gateway's delivery of the answer that missed the revocation, the
// replica's send of that answer, the acknowledgements of the revoke the logout counted (the two
// replicas' `revoked` sends it took in), and the gateway's `allowed` answer (the request served).
#include "design.hpp"
#include "trace_lookup.hpp"

#include <deque>
#include <memory>
#include <optional>
#include <set>

namespace seer::bench::explain {

namespace revoke_quorum {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kReplicas = 3;
constexpr int kWriteQuorum = 2;
constexpr sim::Duration kRevokeTimeout = sim::milliseconds(10);
constexpr sim::Duration kCheckTimeout = sim::milliseconds(8);
constexpr sim::Duration kUseTimeout = sim::milliseconds(40);

struct Revoke : sim::Payload {
  Revoke(std::uint64_t r, std::string t) : req(r), token(std::move(t)) {}
  std::uint64_t req;
  std::string token;
  std::string_view type() const override { return "revoke"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"token", token}}; }
};

struct Revoked : sim::Payload {
  Revoked(std::uint64_t r, std::string t) : req(r), token(std::move(t)) {}
  std::uint64_t req;
  std::string token;
  std::string_view type() const override { return "revoked"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"token", token}}; }
};

struct Check : sim::Payload {
  Check(std::uint64_t r, std::string t) : req(r), token(std::move(t)) {}
  std::uint64_t req;
  std::string token;
  std::string_view type() const override { return "check"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"token", token}}; }
};

struct Status : sim::Payload {
  Status(std::uint64_t r, std::string t, bool v) : req(r), token(std::move(t)), revoked(v) {}
  std::uint64_t req;
  std::string token;
  bool revoked;
  std::string_view type() const override { return "status"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"token", token}, {"revoked", revoked}};
  }
};

struct Use : sim::Payload {
  Use(std::uint64_t r, std::string t) : req(r), token(std::move(t)) {}
  std::uint64_t req;
  std::string token;
  std::string_view type() const override { return "use"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"token", token}}; }
};

struct Answer : sim::Payload {
  Answer(std::uint64_t r, std::string t, bool a) : req(r), token(std::move(t)), allowed(a) {}
  std::uint64_t req;
  std::string token;
  bool allowed;
  std::string_view type() const override { return "answer"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"token", token}, {"allowed", allowed}};
  }
};

// What the invariant sees: tokens whose logout was acknowledged, and tokens the gateway served.
struct Oracle {
  std::set<std::string> logged_out;
  std::set<std::string> served_after_logout;
};

sim::Task<void> replica(sim::Env& env) {
  for (;;) {
    const auto m = co_await env.receive();
    if (const auto* r = m.as<Revoke>()) {
      env.storage().put("revoked/" + r->token, "1");
      env.send(m.from, sim::make_payload<Revoked>(r->req, r->token));
    } else if (const auto* c = m.as<Check>()) {
      const bool revoked = env.storage().get("revoked/" + c->token).has_value();
      env.send(m.from, sim::make_payload<Status>(c->req, c->token, revoked));
    }
  }
}

sim::Task<void> gateway(sim::Env& env, std::vector<sim::ProcessId> replicas,
                        std::shared_ptr<Oracle> oracle, bool fixed) {
  std::uint64_t req = 0;
  std::size_t next = 0;
  std::deque<sim::Message> waiting;  // requests that arrived during a check
  for (;;) {
    sim::Message m;
    if (!waiting.empty()) {
      m = std::move(waiting.front());
      waiting.pop_front();
    } else {
      m = co_await env.receive();
    }
    const auto* use = m.as<Use>();
    if (!use) continue;  // a late status of an earlier check
    const std::string token = use->token;
    const std::uint64_t use_req = use->req;
    const sim::ProcessId client = m.from;
    // Ask replicas in turn until enough have answered (buggy: one, fixed: two).
    const std::size_t needed = fixed ? 2 : 1;
    std::set<sim::ProcessId> answered;
    bool revoked = false;
    while (answered.size() < needed) {
      const sim::ProcessId to = replicas[next++ % replicas.size()];
      if (answered.count(to)) continue;
      const std::uint64_t r = ++req;
      env.send(to, sim::make_payload<Check>(r, token));
      const sim::Time deadline = env.now() + kCheckTimeout;
      for (;;) {
        const sim::Duration left = deadline - env.now();
        if (left <= 0) break;
        const auto s = co_await env.receive_for(left);
        if (!s) break;
        if (s->as<Use>()) {
          waiting.push_back(std::move(*s));
          continue;
        }
        const auto* st = s->as<Status>();
        if (st && st->req == r) {
          answered.insert(s->from);
          revoked = revoked || st->revoked;
          break;
        }
      }
    }
    if (!revoked) {
      env.storage().put("served/" + token + "/" + std::to_string(use_req), "1");
      if (oracle->logged_out.count(token)) oracle->served_after_logout.insert(token);
    }
    env.send(client, sim::make_payload<Answer>(use_req, token, !revoked));
  }
}

sim::Task<void> user(sim::Env& env, sim::HistoryRecorder& history,
                     std::vector<sim::ProcessId> replicas, sim::ProcessId gateway_id,
                     std::shared_ptr<Oracle> oracle, int tokens) {
  std::uint64_t req = 0;
  for (int n = 1; n <= tokens; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 3'000'000));
    const std::string token = "tok-" + std::to_string(n);
    history.invoke(0, "logout", token);
    const std::uint64_t r = ++req;
    std::set<sim::ProcessId> acked;
    while (static_cast<int>(acked.size()) < kWriteQuorum) {
      for (const auto to : replicas) {
        if (!acked.count(to)) env.send(to, sim::make_payload<Revoke>(r, token));
      }
      const sim::Time deadline = env.now() + kRevokeTimeout;
      while (static_cast<int>(acked.size()) < kWriteQuorum) {
        const sim::Duration left = deadline - env.now();
        if (left <= 0) break;
        const auto m = co_await env.receive_for(left);
        if (!m) break;
        const auto* a = m->as<Revoked>();
        if (a && a->req == r) acked.insert(m->from);
      }
    }
    oracle->logged_out.insert(token);
    history.complete(0, sim::OpType::kOk, "logout", token);
    // The other tab replays the token.
    history.invoke(0, "replay", token);
    const std::uint64_t u = ++req;
    env.send(gateway_id, sim::make_payload<Use>(u, token));
    std::optional<bool> allowed;
    const sim::Time deadline = env.now() + kUseTimeout;
    for (;;) {
      const sim::Duration left = deadline - env.now();
      if (left <= 0) break;
      const auto m = co_await env.receive_for(left);
      if (!m) break;
      const auto* a = m->as<Answer>();
      if (a && a->req == u) {
        allowed = a->allowed;
        break;
      }
    }
    if (allowed) {
      const nlohmann::json outcome = {{"token", token}, {"allowed", *allowed}};
      history.complete(0, sim::OpType::kOk, "replay", outcome);
    } else {
      history.complete(0, sim::OpType::kInfo, "replay", token, "no answer");
    }
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"revoke_quorum",
            "session revocations written to two of three replicas and checked on one",
            {"buggy", "fixed"},
            {{"no-use-after-logout", "no request is served with a token logged out before"}},
            {}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    auto oracle = std::make_shared<Oracle>();
    std::vector<sim::ProcessId> replicas;
    for (int i = 1; i <= kReplicas; ++i) {
      replicas.push_back(sim.add_process("replica" + std::to_string(i),
                                         [](sim::Env& env) { return replica(env); },
                                         {.crashable = false, .client = false, .pausable = false}));
    }
    const auto gw = sim.add_process(
        "gateway",
        [replicas, oracle, fixed](sim::Env& env) { return gateway(env, replicas, oracle, fixed); },
        {.crashable = false, .client = false, .pausable = false});
    auto& history = sim.history();
    const int tokens = sim.config().ops;
    sim.add_process("user",
                    [&history, replicas, gw, oracle, tokens](sim::Env& env) {
                      return user(env, history, replicas, gw, oracle, tokens);
                    },
                    {.crashable = false, .client = true});
    sim.add_invariant("no-use-after-logout", [oracle]() -> std::optional<sim::Finding> {
      if (oracle->served_after_logout.empty()) return std::nullopt;
      const auto& token = *oracle->served_after_logout.begin();
      return sim::Finding{"token " + token + " was accepted after its logout was acknowledged",
                          {token}};
    });
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the token T. The gateway's `answer` send for T with allowed true (the request
// served); the last `status` for T it took in before that, with revoked false (the answer that
// missed the revocation), and that status's send by its replica; the `revoked` acknowledgements
// for T the user took in (the first from each of two replicas: the quorum it counted).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string token = between(violation_message(trace), "token ", " was accepted");
  if (token.empty()) return {};
  const int gw = lane_of(trace, "gateway");
  const int usr = lane_of(trace, "user");
  const auto* served = find_first(trace, [&](const TraceEvent& e) {
    return e.lane == gw && e.kind == EventKind::kSend && e.type == "answer" &&
           payload(e).value("token", "") == token && payload(e).value("allowed", false);
  });
  if (!served) return {};
  const auto* stale = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.lane == gw && e.kind == EventKind::kDeliver && e.type == "status" &&
               payload(e).value("token", "") == token && !payload(e).value("revoked", true);
      },
      served->seq);
  if (!stale) return {};
  const auto* answer = send_of(trace, *stale);
  if (!answer) return {};
  const auto acks = find_all(
      trace,
      [&](const TraceEvent& e) {
        return e.lane == usr && e.kind == EventKind::kDeliver && e.type == "revoked" &&
               payload(e).value("token", "") == token;
      },
      served->seq);
  std::vector<std::uint64_t> keys = {stale->seq, answer->seq};
  std::set<int> from;
  for (const auto* a : acks) {
    if (from.size() == 2 || !from.insert(a->peer).second) continue;
    if (const auto* s = send_of(trace, *a)) keys.push_back(s->seq);
  }
  if (keys.size() < 4) return {};
  keys.push_back(served->seq);
  return keys;
}

}  // namespace revoke_quorum

Design make_revoke_quorum() {
  Design d;
  d.name = "revoke_quorum";
  d.bug =
      "a revocation is acknowledged once two of three replicas store it, and the gateway checks "
      "tokens on one replica: R + W = N, the replica asked may not have it yet";
  d.system = std::make_unique<revoke_quorum::System>();
  d.invariant = "no-use-after-logout";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder, sim::FaultKind::kDrop};
  d.ops = 40;
  d.held_out = true;
  d.label.kinds = {"stale_read"};
  d.label.key_events = revoke_quorum::key_events;
  return d;
}

}  // namespace seer::bench::explain
