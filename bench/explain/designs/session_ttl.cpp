// session_ttl: login sessions with an expiry stamp, checked by the API servers.
//
// Spec. Users log in at an auth server (`login_request{req, user}` -> `login_reply{req, sid}`),
// which stores the session in the KV store under `session/<user>` = {sid, expires}, where
// `expires` is its clock plus 40 ms (the session's time to live). Users then call either of two
// API servers with their session (`api_request{req, user, sid}` -> `api_reply{req, ok, reason}`);
// a rejected session makes the user log in again. A session is valid for 40 ms after its login.
// Invariant `session-lifetime`: a session is judged valid exactly while it is younger than its
// time to live, give or take 1 ms ("user2's session s2-3, issued 12.520ms ago (ttl 40ms), was
// rejected as expired by api1"; or "... issued 61.002ms ago (ttl 40ms), was accepted by api2").
// Operations (history): `login`, `call` per user.
//
// Bug (variant `buggy`): the API servers validate sessions themselves: they read the session
// (linearizable) and compare its `expires` stamp, written from the auth server's clock, with their
// own clock. With clock skew an API server whose clock is ahead of the auth server's rejects fresh
// sessions, and one whose clock is behind accepts sessions that expired.
// Fix (variant `fixed`): token introspection: the API servers ask the auth server
// (`introspect_request{req, user, sid}` -> `introspect_reply{req, valid}`), which compares the
// stamp with the clock that wrote it.
// Faults: delay, clock.
//
// Label: `clock_behind` or `clock_ahead`: the check compares two clocks (the stamp's and the
// checker's); whether the checker's clock is behind the stamper's or the stamper's is ahead is the
// same fact, and which one is off against true time is incidental to the bug.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"

#include <cstdio>
#include <deque>

namespace seer::bench::explain {

using seer::explain::EventKind;

namespace session_ttl {

constexpr sim::Duration kTtl = sim::milliseconds(40);
constexpr sim::Duration kSlack = sim::milliseconds(1);
constexpr sim::Duration kKvTimeout = sim::milliseconds(50);
constexpr sim::Duration kCallTimeout = sim::milliseconds(60);

struct LoginRequest : sim::Payload {
  LoginRequest(std::uint64_t r, std::string u) : req(r), user(std::move(u)) {}
  std::uint64_t req;
  std::string user;
  std::string_view type() const override { return "login_request"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"user", user}}; }
};
struct LoginReply : sim::Payload {
  LoginReply(std::uint64_t r, std::string s) : req(r), sid(std::move(s)) {}
  std::uint64_t req;
  std::string sid;
  std::string_view type() const override { return "login_reply"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"sid", sid}}; }
};
struct CallRequest : sim::Payload {
  CallRequest(std::string t, std::uint64_t r, std::string u, std::string s)
      : kind(std::move(t)), req(r), user(std::move(u)), sid(std::move(s)) {}
  std::string kind;  // "api_request" or "introspect_request"
  std::uint64_t req;
  std::string user;
  std::string sid;
  std::string_view type() const override { return kind; }
  nlohmann::json to_json() const override { return {{"req", req}, {"user", user}, {"sid", sid}}; }
};
struct CallReply : sim::Payload {
  CallReply(std::string t, std::uint64_t r, bool o, std::string w)
      : kind(std::move(t)), req(r), ok(o), reason(std::move(w)) {}
  std::string kind;  // "api_reply" or "introspect_reply"
  std::uint64_t req;
  bool ok;
  std::string reason;
  std::string_view type() const override { return kind; }
  nlohmann::json to_json() const override { return {{"req", req}, {"ok", ok}, {"reason", reason}}; }
};

struct Oracle {
  const sim::Simulator* sim = nullptr;
  std::map<std::string, sim::Time> issued;  // sid -> true time of its stamp
  std::string violation;

  void issue(const std::string& sid) { issued[sid] = sim->true_now(); }
  void judged(const std::string& by, const std::string& user, const std::string& sid, bool valid) {
    const auto it = issued.find(sid);
    if (it == issued.end() || !violation.empty()) return;
    const sim::Time age = sim->true_now() - it->second;
    if ((valid && age > kTtl + kSlack) || (!valid && age < kTtl - kSlack)) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.3fms", static_cast<double>(age) / 1e6);
      violation = user + "'s session " + sid + ", issued " + buf + " ago (ttl 40ms), was " +
                  (valid ? "accepted" : "rejected as expired") + " by " + by;
    }
  }
};

// Judges a session read from the store against this process's clock.
bool still_valid(sim::Env& env, const services::KvResult& got, const std::string& sid,
                 std::string* reason) {
  if (got.status != services::KvStatus::kOk || got.value.value("sid", "") != sid) {
    *reason = "unknown session";
    return false;
  }
  if (got.value["expires"].get<sim::Time>() <= env.now()) {
    *reason = "expired";
    return false;
  }
  return true;
}

sim::Task<void> auth(sim::Env& env, sim::ProcessId kv_store, std::shared_ptr<Oracle> oracle) {
  std::deque<sim::Message> pending;
  services::KvClient kv(env, kv_store, kKvTimeout, &pending, env.random());
  std::map<std::string, int> logins;
  for (;;) {
    sim::Message m;
    if (!pending.empty()) {
      m = std::move(pending.front());
      pending.pop_front();
    } else {
      m = co_await env.receive();
    }
    if (const auto* login = m.as<LoginRequest>()) {
      const std::string sid =
          "s" + login->user.substr(4) + "-" + std::to_string(++logins[login->user]);
      nlohmann::json session;
      session["sid"] = sid;
      session["expires"] = env.now() + kTtl;
      oracle->issue(sid);
      const auto r = co_await kv.put("session/" + login->user, session);
      if (r.ok()) env.send(m.from, sim::make_payload<LoginReply>(login->req, sid));
    } else if (const auto* check = m.as<CallRequest>()) {
      if (check->kind != "introspect_request") continue;
      const auto got = co_await kv.get("session/" + check->user, services::KvRead::kLinearizable);
      if (got.timed_out) continue;
      std::string reason;
      const bool valid = still_valid(env, got, check->sid, &reason);
      if (reason != "unknown session") oracle->judged("auth", check->user, check->sid, valid);
      env.send(m.from, sim::make_payload<CallReply>("introspect_reply", check->req, valid, reason));
    }
  }
}

sim::Task<void> api(sim::Env& env, sim::ProcessId kv_store, sim::ProcessId auth_server, bool fixed,
                    std::string me, std::shared_ptr<Oracle> oracle) {
  std::deque<sim::Message> pending;
  services::KvClient kv(env, kv_store, kKvTimeout, &pending, env.random());
  std::uint64_t next_req = env.random();
  for (;;) {
    sim::Message m;
    if (!pending.empty()) {
      m = std::move(pending.front());
      pending.pop_front();
    } else {
      m = co_await env.receive();
    }
    const auto* call = m.as<CallRequest>();
    if (!call || call->kind != "api_request") continue;
    bool valid = false;
    std::string reason;
    if (!fixed) {
      const auto got = co_await kv.get("session/" + call->user, services::KvRead::kLinearizable);
      if (got.timed_out) continue;  // the user asks again
      valid = still_valid(env, got, call->sid, &reason);
      if (reason != "unknown session") oracle->judged(me, call->user, call->sid, valid);
    } else {
      const std::uint64_t req = ++next_req;
      env.send(auth_server,
               sim::make_payload<CallRequest>("introspect_request", req, call->user, call->sid));
      const sim::Time deadline = env.now() + kKvTimeout;
      const CallReply* answer = nullptr;
      std::optional<sim::Message> got;
      while (env.now() < deadline) {
        got = co_await env.receive_for(deadline - env.now());
        if (!got) break;
        const auto* reply = got->as<CallReply>();
        if (reply && reply->kind == "introspect_reply" && reply->req == req) {
          answer = reply;
          break;
        }
        pending.push_back(std::move(*got));
      }
      if (!answer) continue;
      valid = answer->ok;
      reason = answer->reason;
    }
    env.send(m.from, sim::make_payload<CallReply>("api_reply", call->req, valid, reason));
  }
}

sim::Task<void> user(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId auth_server,
                     std::vector<sim::ProcessId> apis, int id, int calls) {
  const std::string me = "user" + std::to_string(id);
  std::uint64_t req = 0;
  std::string sid;
  // Waits for the reply of `type` to request `mine`; nullptr after the timeout.
  auto wait = [&env](std::string_view type,
                     std::uint64_t mine) -> sim::Task<std::optional<sim::Message>> {
    const sim::Time deadline = env.now() + kCallTimeout;
    while (env.now() < deadline) {
      auto m = co_await env.receive_for(deadline - env.now());
      if (!m) break;
      if (m->body->type() != type) continue;
      const auto j = m->body->to_json();
      if (j.value("req", std::uint64_t{0}) == mine) co_return m;
    }
    co_return std::nullopt;
  };
  for (int n = 0; n < calls; ++n) {
    co_await env.sleep(sim::milliseconds(3) + static_cast<sim::Duration>(env.random() % 9'000'000));
    while (sid.empty()) {
      history.invoke(id, "login", me);
      const std::uint64_t mine = ++req;
      env.send(auth_server, sim::make_payload<LoginRequest>(mine, me));
      const auto m = co_await wait("login_reply", mine);
      if (m) sid = m->as<LoginReply>()->sid;
      history.complete(id, m ? sim::OpType::kOk : sim::OpType::kInfo, "login", sid);
    }
    history.invoke(id, "call", sid);
    const std::uint64_t mine = ++req;
    env.send(apis[env.random() % apis.size()],
             sim::make_payload<CallRequest>("api_request", mine, me, sid));
    const auto m = co_await wait("api_reply", mine);
    if (!m) {
      history.complete(id, sim::OpType::kInfo, "call", sid, "timeout");
      continue;
    }
    const auto* reply = m->as<CallReply>();
    history.complete(id, reply->ok ? sim::OpType::kOk : sim::OpType::kFail, "call", sid,
                     reply->reason);
    if (!reply->ok) sid.clear();  // log in again
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"session_ttl",
            "API servers check login sessions' expiry stamps written by an auth server",
            {"buggy", "fixed"},
            {{"session-lifetime", "a session is valid exactly while younger than its ttl"}},
            {{"kv", {"linearizable"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(sim, "kv", services::kv_config("linearizable"));
    auto oracle = std::make_shared<Oracle>();
    oracle->sim = &sim;
    const auto auth_server = sim.add_process(
        "auth", [k = kv.process, oracle](sim::Env& env) { return auth(env, k, oracle); },
        {.crashable = false, .client = false});
    std::vector<sim::ProcessId> apis;
    for (int a = 1; a <= 2; ++a) {
      apis.push_back(sim.add_process(
          "api" + std::to_string(a),
          [k = kv.process, auth_server, fixed, a, oracle](sim::Env& env) {
            return api(env, k, auth_server, fixed, "api" + std::to_string(a), oracle);
          },
          {.crashable = false, .client = false}));
    }
    auto& history = sim.history();
    const int users = sim.config().clients_or(3);
    for (int u = 1; u <= users; ++u) {
      const int share = sim.config().ops / users + (u <= sim.config().ops % users ? 1 : 0);
      sim.add_process("user" + std::to_string(u),
                      [&history, auth_server, apis, u, share](sim::Env& env) {
                        return user(env, history, auth_server, apis, u, share);
                      },
                      {.crashable = false, .client = true});
    }
    sim.add_invariant("session-lifetime", [oracle]() -> std::optional<std::string> {
      if (oracle->violation.empty()) return std::nullopt;
      return oracle->violation;
    });
  }
};

// Label. From the message: user U, session S, the judge J (an API server). The cause: the auth
// server's write of S (the store's reply to its put: where the stamp from the auth server's clock
// took effect), J's read of S (the delivery of the store's reply: where J compared the stamp with
// its own clock), and J's answer to U (the decision).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string user = between(msg, "", "'s session ");
  const std::string sid = between(msg, "'s session ", ", issued ");
  const std::string judge = between(between(msg, " ago (ttl 40ms), was ", ""), " by ", "");
  if (user.empty() || sid.empty() || judge.empty()) return {};
  const auto* write = find_first(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kSend || e.type != "kv_reply" || process_of(trace, e) != "kv" ||
        payload(e).value("status", "") != "ok") {
      return false;
    }
    const auto* req = request_send_for(trace, e);
    if (!req) return false;
    const auto& p = payload(*req);
    return p.value("op", "") == "put" && p.value("key", "") == "session/" + user &&
           p.contains("value") && p["value"].value("sid", "") == sid;
  });
  const std::uint64_t until = violation_event(trace) + 1;
  const auto* read = find_last(
      trace,
      [&](const TraceEvent& e) {
        if (process_of(trace, e) != judge || e.kind != EventKind::kDeliver ||
            e.type != "kv_reply") {
          return false;
        }
        const auto& v = payload(e).value("value", nlohmann::json());
        return v.is_object() && v.value("sid", "") == sid;
      },
      until);
  if (!write || !read) return {};
  const auto* answer = find_first(
      trace,
      [&](const TraceEvent& e) {
        return process_of(trace, e) == judge && e.kind == EventKind::kSend &&
               e.type == "api_reply" &&
               trace.processes.at(static_cast<std::size_t>(e.peer)) == user;
      },
      read->seq);
  if (!answer) return {};
  return {write->seq, read->seq, answer->seq};
}

}  // namespace session_ttl

Design make_session_ttl() {
  Design d;
  d.name = "session_ttl";
  d.bug =
      "API servers compare a session's expiry stamp from the auth server's clock with their own "
      "skewed clocks";
  d.system = std::make_unique<session_ttl::System>();
  d.invariant = "session-lifetime";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kClock};
  d.ops = 45;
  d.held_out = true;
  d.label.kinds = {"clock_behind", "clock_ahead"};
  d.label.why_several =
      "the check compares two clocks (the auth server's stamp and the API server's now): 'the "
      "checker's clock is behind the stamper's' and 'the stamper's clock is ahead' are the same "
      "fact; which one is off against true time is incidental to the bug";
  d.label.key_events = session_ttl::key_events;
  return d;
}

}  // namespace seer::bench::explain
