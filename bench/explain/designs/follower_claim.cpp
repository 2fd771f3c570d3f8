// follower_claim: username claims checked against the design's own read replica.
//
// Spec. A username registry runs as a primary (`primary`) and a read replica (`replica`), the
// design's own processes and messages, each keeping `name/<username>` = owner on its local disk.
// The primary applies claims and every 5 ms ships the claims it applied since its last shipment
// to the replica (`replicate {names}`), which stores them. Three users (`user1`..`user3`) claim
// usernames from a pool of eight (`alice`, `bob`, ...): `lookup {req, name}` at the replica
// (answered `found {req, name, owner}`, owner null when free), and if free, `claim {req, name,
// user}` at the primary (answered `claimed {req, name, user, ok}`). A user waits 20 ms for an
// answer.
// Invariant `one-owner`: no username is promised to two users ("username alice was given to 2
// users (user1, user3)").
// Operations (history): `claim` per attempt, by each user.
//
// Bug (variant `buggy`): the primary trusts the check: it writes the claim without looking at
// the name's current owner. The replica lags the primary by up to a shipment period (plus the
// network's delay), and two users' checks may also both precede either claim: a second user's
// check finds a claimed name still free, its claim overwrites the first owner's, and both users
// were told the name is theirs.
// Fix (variant `fixed`): the primary applies a claim only if the name is free on the primary
// (else `ok: false`); the replica's answer stays a fast pre-check.
// Faults: delay, reorder.
//
// Label. From the second promise of the name: the second user's lookup answer (its delivery:
// the name free), the primary's acceptance of the first claim (its `claimed` send), and its
// acceptance of the second (the overwrite). `stale_read` when the first claim was applied before
// the replica answered the lookup (the replica lagged), `outdated_read` when it was applied after
// (the answer was right when given, and outdated before the claim it decided).
#include "design.hpp"
#include "trace_lookup.hpp"

#include <map>
#include <memory>
#include <optional>
#include <set>

namespace seer::bench::explain {

namespace follower_claim {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kUsers = 3;
constexpr sim::Duration kShipEvery = sim::milliseconds(5);
constexpr sim::Duration kAnswerTimeout = sim::milliseconds(20);
const std::vector<std::string> kNames = {"alice", "bob",   "carol", "dave",
                                         "erin",  "frank", "grace", "heidi"};

struct Lookup : sim::Payload {
  Lookup(std::uint64_t r, std::string n) : req(r), name(std::move(n)) {}
  std::uint64_t req;
  std::string name;
  std::string_view type() const override { return "lookup"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"name", name}}; }
};

struct Found : sim::Payload {
  Found(std::uint64_t r, std::string n, std::optional<std::string> o)
      : req(r), name(std::move(n)), owner(std::move(o)) {}
  std::uint64_t req;
  std::string name;
  std::optional<std::string> owner;
  std::string_view type() const override { return "found"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"name", name}, {"owner", owner ? nlohmann::json(*owner) : nullptr}};
  }
};

struct Claim : sim::Payload {
  Claim(std::uint64_t r, std::string n, std::string u)
      : req(r), name(std::move(n)), user(std::move(u)) {}
  std::uint64_t req;
  std::string name;
  std::string user;
  std::string_view type() const override { return "claim"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"name", name}, {"user", user}}; }
};

struct Claimed : sim::Payload {
  Claimed(std::uint64_t r, std::string n, std::string u, bool o)
      : req(r), name(std::move(n)), user(std::move(u)), ok(o) {}
  std::uint64_t req;
  std::string name;
  std::string user;
  bool ok;
  std::string_view type() const override { return "claimed"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"name", name}, {"user", user}, {"ok", ok}};
  }
};

struct Replicate : sim::Payload {
  explicit Replicate(std::map<std::string, std::string> n) : names(std::move(n)) {}
  std::map<std::string, std::string> names;  // username -> owner
  std::string_view type() const override { return "replicate"; }
  nlohmann::json to_json() const override { return {{"names", names}}; }
};

// Who was told a username is theirs: the invariant's view (design code never reads it).
using Promises = std::map<std::string, std::set<std::string>>;

sim::Task<void> primary(sim::Env& env, std::shared_ptr<sim::ProcessId> replica,
                        std::shared_ptr<Promises> promises, bool fixed) {
  std::map<std::string, std::string> unshipped;
  sim::Time next_ship = env.now() + kShipEvery;
  for (;;) {
    const sim::Duration left = next_ship - env.now();
    if (left <= 0) {
      if (!unshipped.empty()) env.send(*replica, sim::make_payload<Replicate>(unshipped));
      unshipped.clear();
      next_ship = env.now() + kShipEvery;
      continue;
    }
    const auto m = co_await env.receive_for(left);
    if (!m) continue;
    const auto* c = m->as<Claim>();
    if (!c) continue;
    const std::string key = "name/" + c->name;
    const bool ok = !fixed || !env.storage().get(key);  // buggy: the user's check is trusted
    if (ok) {
      env.storage().put(key, c->user);
      unshipped[c->name] = c->user;
      (*promises)[c->name].insert(c->user);
    }
    env.send(m->from, sim::make_payload<Claimed>(c->req, c->name, c->user, ok));
  }
}

sim::Task<void> replica(sim::Env& env) {
  for (;;) {
    const auto m = co_await env.receive();
    if (const auto* r = m.as<Replicate>()) {
      for (const auto& [name, owner] : r->names) env.storage().put("name/" + name, owner);
    } else if (const auto* l = m.as<Lookup>()) {
      env.send(m.from,
               sim::make_payload<Found>(l->req, l->name, env.storage().get("name/" + l->name)));
    }
  }
}

sim::Task<void> user(sim::Env& env, sim::HistoryRecorder& history, int index,
                     sim::ProcessId primary_id, sim::ProcessId replica_id, int attempts) {
  const std::string me = env.name_of(env.self());
  std::uint64_t req = 0;
  for (int n = 1; n <= attempts; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 4'000'000));
    const std::string name = kNames[env.random() % kNames.size()];
    history.invoke(index, "claim", name);
    // Check, then claim: each answer awaited up to the timeout.
    const std::uint64_t lr = ++req;
    env.send(replica_id, sim::make_payload<Lookup>(lr, name));
    std::optional<bool> free;
    sim::Time deadline = env.now() + kAnswerTimeout;
    while (!free) {
      const sim::Duration left = deadline - env.now();
      if (left <= 0) break;
      const auto m = co_await env.receive_for(left);
      if (!m) break;
      if (const auto* f = m->as<Found>(); f && f->req == lr) free = !f->owner.has_value();
    }
    if (!free || !*free) {
      history.complete(index, sim::OpType::kFail, "claim", name, free ? "taken" : "no answer");
      continue;
    }
    const std::uint64_t cr = ++req;
    env.send(primary_id, sim::make_payload<Claim>(cr, name, me));
    std::optional<bool> ok;
    deadline = env.now() + kAnswerTimeout;
    while (!ok) {
      const sim::Duration left = deadline - env.now();
      if (left <= 0) break;
      const auto m = co_await env.receive_for(left);
      if (!m) break;
      if (const auto* c = m->as<Claimed>(); c && c->req == cr) ok = c->ok;
    }
    history.complete(index, ok && *ok ? sim::OpType::kOk : sim::OpType::kInfo, "claim", name);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"follower_claim",
            "users claim usernames after checking them on the registry's own read replica",
            {"buggy", "fixed"},
            {{"one-owner", "no username is promised to two users"}},
            {}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    auto promises = std::make_shared<Promises>();
    auto replica_slot = std::make_shared<sim::ProcessId>(sim::kNoProcess);
    const auto primary_id =
        sim.add_process("primary",
                        [replica_slot, promises, fixed](sim::Env& env) {
                          return primary(env, replica_slot, promises, fixed);
                        },
                        {.crashable = false, .client = false, .pausable = false});
    *replica_slot = sim.add_process("replica", [](sim::Env& env) { return replica(env); },
                                    {.crashable = false, .client = false, .pausable = false});
    auto& history = sim.history();
    const int attempts = sim.config().ops / kUsers;
    for (int u = 0; u < kUsers; ++u) {
      sim.add_process("user" + std::to_string(u + 1),
                      [&history, u, primary_id, r = *replica_slot, attempts](sim::Env& env) {
                        return user(env, history, u, primary_id, r, attempts);
                      },
                      {.crashable = false, .client = true});
    }
    sim.add_invariant("one-owner", sim::when_changed(
                                       [promises] {
                                         std::size_t total = 0;
                                         for (const auto& [n, users] : *promises)
                                           total += users.size();
                                         return total;
                                       },
                                       [promises]() -> std::optional<sim::Finding> {
                                         for (const auto& [name, users] : *promises) {
                                           if (users.size() < 2) continue;
                                           std::string list;
                                           for (const auto& u : users)
                                             list += (list.empty() ? "" : ", ") + u;
                                           return sim::Finding{"username " + name +
                                                                   " was given to " +
                                                                   std::to_string(users.size()) +
                                                                   " users (" + list + ")",
                                                               {name}};
                                         }
                                         return std::nullopt;
                                       }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the username N. The primary's accepted claims of N (`claimed` sends with
// `ok`): the first, to user U1, and the first to another user U2 (the overwrite). U2's last
// delivery of a `found` answer for N before its claim's send: the check that found N free.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string name = between(violation_message(trace), "username ", " was given to ");
  if (name.empty()) return {};
  const auto accepted = find_all(trace, [&](const TraceEvent& e) {
    return e.kind == EventKind::kSend && e.type == "claimed" && payload(e).value("ok", false) &&
           payload(e).value("name", "") == name;
  });
  if (accepted.size() < 2) return {};
  const auto* first = accepted[0];
  const TraceEvent* second = nullptr;
  for (const auto* a : accepted) {
    if (payload(*a).value("user", "") != payload(*first).value("user", "")) {
      second = a;
      break;
    }
  }
  if (!second) return {};
  const auto* check = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kDeliver && e.lane == second->peer && e.type == "found" &&
               payload(e).value("name", "") == name;
      },
      second->seq);
  if (!check) return {};
  return {check->seq, first->seq, second->seq};
}

// stale_read when the first claim was applied before the replica sent its answer to the check.
std::vector<std::string> kinds_for(const Trace& trace) {
  const auto keys = key_events(trace);
  if (keys.size() != 3) return {"stale_read", "outdated_read"};
  const auto* answer = send_of(trace, trace.at(keys[0]));
  if (answer && keys[1] < answer->seq) return {"stale_read"};
  return {"outdated_read"};
}

}  // namespace follower_claim

Design make_follower_claim() {
  Design d;
  d.name = "follower_claim";
  d.bug =
      "a username checked free on the registry's own lagging read replica, then claimed at the "
      "primary, which trusts the check and overwrites an earlier owner";
  d.system = std::make_unique<follower_claim::System>();
  d.invariant = "one-owner";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder};
  d.ops = 36;
  d.held_out = true;
  d.label.kinds = {"stale_read", "outdated_read"};
  d.label.why_several =
      "which one depends on the run's order: the replica had not yet received a claim the "
      "primary had applied when it answered (stale_read), or the claim was applied after the "
      "answer and before the claim it decided (outdated_read); kinds_for picks one per trace";
  d.label.kinds_for = follower_claim::kinds_for;
  d.label.key_events = follower_claim::key_events;
  return d;
}

}  // namespace seer::bench::explain
