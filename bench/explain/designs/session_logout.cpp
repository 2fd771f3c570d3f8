// session_logout (held out): an auth server keeping sessions on its local disk.
//
// Spec. An auth server (a design process) keeps the sessions it issued on its local disk
// (`session/<id>`), so that a restart keeps users logged in. Users log in
// (`auth_request{op: login}`), use their session a few times (`check`), log out (`logout`), and the
// client app then checks once more that the session is gone. Requests are retried on a 30 ms
// timeout.
// Invariant `logout-sticks`: a session is never accepted after its logout was acknowledged
// ("session s2-1 was accepted after its logout was acknowledged").
// Operations (history): `login`, `check`, `logout`.
//
// Bug (variant `buggy`): to keep latency down the server syncs its disk only on login; a logout
// erases the session and is acknowledged before the erase is durable. A crash takes the erase back,
// and after the restart the session is valid again.
// Fix (variant `fixed`): sync before acknowledging a logout too.
// Faults: delay, crash (only the auth server can crash).
#include "design.hpp"
#include "trace_lookup.hpp"

#include <set>

namespace seer::bench::explain {

namespace session_logout {

constexpr int kUsers = 3;
constexpr sim::Duration kTimeout = sim::milliseconds(30);

struct AuthRequest : sim::Payload {
  AuthRequest(std::uint64_t r, std::string o, std::string s)
      : req(r), op(std::move(o)), session(std::move(s)) {}
  std::uint64_t req;
  std::string op;  // login, check, logout
  std::string session;
  std::string_view type() const override { return "auth_request"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"op", op}, {"session", session}};
  }
};

struct AuthReply : sim::Payload {
  AuthReply(std::uint64_t r, bool v) : req(r), valid(v) {}
  std::uint64_t req;
  bool valid;
  std::string_view type() const override { return "auth_reply"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"valid", valid}}; }
};

struct Oracle {
  std::set<std::string> logged_out;  // logouts acknowledged
  std::string violation;
};

sim::Task<void> auth(sim::Env& env, bool fixed) {
  for (;;) {
    const auto m = co_await env.receive();
    const auto* r = m.as<AuthRequest>();
    if (!r) continue;
    const std::string key = "session/" + r->session;
    bool valid = false;
    if (r->op == "login") {
      env.storage().put(key, "valid");
      co_await env.sync();
      valid = true;
    } else if (r->op == "check") {
      valid = env.storage().get(key).has_value();
    } else {
      env.storage().erase(key);
      if (fixed) co_await env.sync();
      valid = false;
    }
    env.send(m.from, sim::make_payload<AuthReply>(r->req, valid));
  }
}

sim::Task<void> user(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId server, int id,
                     int sessions, std::shared_ptr<Oracle> oracle) {
  std::uint64_t next_req = 1;
  auto call = [&](std::string op, std::string session) -> sim::Task<bool> {
    for (;;) {
      const std::uint64_t req = next_req++;
      env.send(server, sim::make_payload<AuthRequest>(req, op, session));
      const sim::Time deadline = env.now() + kTimeout;
      for (;;) {
        const sim::Duration left = deadline - env.now();
        if (left <= 0) break;
        auto m = co_await env.receive_for(left);
        if (!m) break;
        const auto* reply = m->as<AuthReply>();
        if (reply && reply->req == req) co_return reply->valid;
      }
    }
  };
  for (int s = 0; s < sessions; ++s) {
    const std::string session = "s" + std::to_string(id) + "-" + std::to_string(s);
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 4'000'000));
    history.invoke(id, "login", session);
    co_await call("login", session);
    history.complete(id, sim::OpType::kOk, "login", session);
    const int uses = static_cast<int>(env.random() % 3) + 1;
    for (int u = 0; u <= uses; ++u) {
      co_await env.sleep(sim::milliseconds(2) +
                         static_cast<sim::Duration>(env.random() % 6'000'000));
      if (u == uses) {
        history.invoke(id, "logout", session);
        co_await call("logout", session);
        history.complete(id, sim::OpType::kOk, "logout", session);
        oracle->logged_out.insert(session);
        co_await env.sleep(sim::milliseconds(5) +
                           static_cast<sim::Duration>(env.random() % 30'000'000));
      }
      history.invoke(id, "check", session);
      const bool valid = co_await call("check", session);
      history.complete(id, sim::OpType::kOk, "check", nlohmann::json::array({session, valid}));
      if (valid && oracle->logged_out.count(session) && oracle->violation.empty()) {
        oracle->violation =
            "session " + session + " was accepted after its logout was acknowledged";
      }
    }
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"session_logout",
            "an auth server keeps sessions on its local disk; users log in, use and log out",
            {"buggy", "fixed"},
            {{"logout-sticks", "no session is accepted after its logout was acknowledged"}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto server = sim.add_process("auth", [fixed](sim::Env& env) { return auth(env, fixed); },
                                        {.crashable = true, .client = false});
    auto oracle = std::make_shared<Oracle>();
    auto& history = sim.history();
    const int users = sim.config().clients_or(kUsers);
    for (int u = 0; u < users; ++u) {
      const int share = std::max(1, sim.config().ops / (users * 4));
      sim.add_process("user" + std::to_string(u + 1),
                      [&history, server, u, share, oracle](sim::Env& env) {
                        return user(env, history, server, u + 1, share, oracle);
                      },
                      {.crashable = false, .client = true});
    }
    sim.add_invariant("logout-sticks", [oracle]() -> std::optional<std::string> {
      if (oracle->violation.empty()) return std::nullopt;
      return oracle->violation;
    });
  }
};

// Label. From the message: the session S. The cause: the auth server's erase of S (the storage
// write of its logout), the logout's acknowledgment (the reply sent before the erase was durable),
// and the crash that took the erase back.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string session = between(violation_message(trace), "session ", " was accepted");
  if (session.empty()) return {};
  const int server = lane_of(trace, "auth");
  const auto* logout = find_first(trace, [&](const TraceEvent& e) {
    return e.lane == server && e.kind == EventKind::kDeliver && e.type == "auth_request" &&
           payload(e).value("op", "") == "logout" && payload(e).value("session", "") == session;
  });
  if (!logout) return {};
  const auto* erase = find_first(
      trace,
      [&](const TraceEvent& e) {
        return e.lane == server && e.kind == EventKind::kStorageWrite &&
               e.line.value("key", "") == "session/" + session;
      },
      logout->seq);
  if (!erase) return {};
  const auto* ack = find_first(
      trace,
      [&](const TraceEvent& e) {
        return e.lane == server && e.kind == EventKind::kSend && e.type == "auth_reply";
      },
      erase->seq);
  const auto* crash = find_first(
      trace, [&](const TraceEvent& e) { return e.lane == server && e.kind == EventKind::kCrash; },
      erase->seq);
  if (!ack || !crash) return {};
  return {erase->seq, ack->seq, crash->seq};
}

}  // namespace session_logout

Design make_session_logout() {
  Design d;
  d.name = "session_logout";
  d.bug = "an auth server acknowledges a logout before the erase is durable; a crash revives it";
  d.system = std::make_unique<session_logout::System>();
  d.invariant = "logout-sticks";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kCrash};
  d.ops = 60;
  d.held_out = true;
  d.label.kinds = {"crash_lost_data"};
  d.label.key_events = session_logout::key_events;
  return d;
}

}  // namespace seer::bench::explain
