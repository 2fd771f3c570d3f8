// rate_window: a sliding-window rate limit shared by two gateways, stamped with their own clocks.
//
// Spec. Two API gateways (`gw1`, `gw2`, the design's own processes) forward tenants' calls to a
// partner API (`partner`, own process) that allows each tenant 4 calls per 20 ms. The gateways
// share the limit through SQL: each call is admitted by one transaction that inserts it into
// `calls(call, tenant, gateway, at)` only if fewer than 4 of the tenant's calls have `at` within
// the last 20 ms (`INSERT ... SELECT ... WHERE (SELECT count(*) ... AND at > ?now - 20ms) < 4`,
// expected to change one row; serializable, so two admissions never race). An admitted call is
// forwarded to the partner and answered `ok`, the others `throttled`. Two tenants (`tenant1`,
// `tenant2`, clients) send calls in bursts of 3-6, each call to a random gateway, then pause
// 20-40 ms.
// Invariant `rate-limit-holds`: no tenant gets more than 4 calls admitted within 20 ms of real
// time, measured at the moment each admitted call was stamped ("tenant t1: call t1-c17 was the 5th
// call admitted within 12.3 ms (limit 4 per 20 ms)"). Operations (history): `call` per call, by
// each tenant.
//
// Bug (variant `buggy`): `at` is the admitting gateway's own clock. With skewed clocks a gateway
// ahead of the other sees the other's recent calls as older than they are and leaves them out of
// its window (and a gateway behind counts the other's calls for longer): together they admit more
// than 4 calls in 20 ms.
// Fix (variant `fixed`): every stamp comes from one clock: the gateway asks a time server
// (`timekeeper`, own process, like a database's NOW() or Redis's TIME) for the time and stamps the
// call with its answer.
// Faults: delay, clock.
//
// Label. `clock_behind` or `clock_ahead`: the over-limit call's admission (the database's reply
// send for its insert) and the admissions of the tenant's other calls within 20 ms of it in real
// time whose stamps its window left out (stamps 20 ms or more before its own), each the database's
// reply send for that insert.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/sql.hpp"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace rate_window {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kGateways = 2;
constexpr int kTenants = 2;
constexpr int kLimit = 4;
constexpr sim::Duration kWindow = sim::milliseconds(20);
// A drifting clock stretches 20 ms by at most a few microseconds at the pinned level; the check
// leaves half a millisecond for it.
constexpr sim::Duration kCheckedWindow = kWindow - sim::microseconds(500);
constexpr sim::Duration kSqlTimeout = sim::milliseconds(50);
constexpr sim::Duration kTimeTimeout = sim::milliseconds(20);
constexpr sim::Duration kAnswerTimeout = sim::milliseconds(60);

struct Call : sim::Payload {
  Call(std::uint64_t r, std::string t, std::string c)
      : req(r), tenant(std::move(t)), call(std::move(c)) {}
  std::uint64_t req;
  std::string tenant;
  std::string call;
  std::string_view type() const override { return "call"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"tenant", tenant}, {"call", call}};
  }
};

struct Answer : sim::Payload {
  Answer(std::uint64_t r, std::string c, std::string o)
      : req(r), call(std::move(c)), outcome(std::move(o)) {}
  std::uint64_t req;
  std::string call;
  std::string outcome;  // ok, throttled, error
  std::string_view type() const override { return "answer"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"call", call}, {"outcome", outcome}};
  }
};

struct Forward : sim::Payload {
  Forward(std::string t, std::string c) : tenant(std::move(t)), call(std::move(c)) {}
  std::string tenant;
  std::string call;
  std::string_view type() const override { return "forward"; }
  nlohmann::json to_json() const override { return {{"tenant", tenant}, {"call", call}}; }
};

struct WhatTime : sim::Payload {
  WhatTime(std::uint64_t r, std::string c) : req(r), call(std::move(c)) {}
  std::uint64_t req;
  std::string call;
  std::string_view type() const override { return "what_time"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"call", call}}; }
};

struct TimeIs : sim::Payload {
  TimeIs(std::uint64_t r, sim::Time n) : req(r), now(n) {}
  std::uint64_t req;
  sim::Time now;
  std::string_view type() const override { return "time_is"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"now", now}}; }
};

// Simulation bookkeeping for the invariant: the true time at which each call was stamped.
using StampClock = std::shared_ptr<std::map<std::string, sim::Time>>;
using NoteStamp = std::function<void(const std::string&)>;

sim::Task<void> timekeeper(sim::Env& env, NoteStamp note) {
  for (;;) {
    const auto m = co_await env.receive();
    const auto* w = m.as<WhatTime>();
    if (!w) continue;
    note(w->call);
    env.send(m.from, sim::make_payload<TimeIs>(w->req, env.now()));
  }
}

sim::Task<void> gateway(sim::Env& env, sim::ProcessId db, sim::ProcessId partner,
                        sim::ProcessId clock_server, bool fixed, NoteStamp note) {
  std::deque<sim::Message> inbox;  // calls that arrive while the gateway waits
  services::SqlClient sql(env, db, kSqlTimeout, &inbox);
  const std::string me = env.name_of(env.self());
  std::uint64_t time_req = 0;
  for (;;) {
    sim::Message m;
    if (!inbox.empty()) {
      m = std::move(inbox.front());
      inbox.pop_front();
    } else {
      m = co_await env.receive();
    }
    const auto* c = m.as<Call>();
    if (!c) continue;
    const std::string tenant = c->tenant;
    const std::string call = c->call;
    const std::uint64_t req = c->req;
    const sim::ProcessId from = m.from;
    std::optional<sim::Time> now;
    if (!fixed) {
      note(call);
      now = env.now();
    } else {
      const std::uint64_t r = ++time_req;
      env.send(clock_server, sim::make_payload<WhatTime>(r, call));
      const sim::Time deadline = env.now() + kTimeTimeout;
      for (;;) {
        const sim::Duration left = deadline - env.now();
        if (left <= 0) break;
        auto got = co_await env.receive_for(left);
        if (!got) break;
        const auto* t = got->as<TimeIs>();
        if (t && t->req == r) {
          now = t->now;
          break;
        }
        if (!t) inbox.push_back(std::move(*got));
      }
    }
    if (!now) {
      env.send(from, sim::make_payload<Answer>(req, call, "error"));
      continue;
    }
    const std::vector<services::SqlStatement> admit = {
        {"INSERT INTO calls (call, tenant, gateway, at) SELECT ?1, ?2, ?3, ?4 WHERE (SELECT "
         "count(*) FROM calls WHERE tenant = ?2 AND at > ?5) < ?6",
         {call, tenant, me, *now, *now - kWindow, kLimit},
         1}};
    const auto r = co_await sql.transact(admit, "admit " + call);
    if (r.timed_out) {
      env.send(from, sim::make_payload<Answer>(req, call, "error"));
      continue;
    }
    if (!r.committed) {
      env.send(from, sim::make_payload<Answer>(req, call, "throttled"));
      continue;
    }
    env.send(partner, sim::make_payload<Forward>(tenant, call));
    env.send(from, sim::make_payload<Answer>(req, call, "ok"));
  }
}

sim::Task<void> tenant(sim::Env& env, sim::HistoryRecorder& history, int index,
                       std::vector<sim::ProcessId> gateways, int calls) {
  const std::string me = "t" + std::to_string(index + 1);
  std::uint64_t req = 0;
  int sent = 0;
  while (sent < calls) {
    co_await env.sleep(sim::milliseconds(20) +
                       static_cast<sim::Duration>(env.random() % 20'000'000));
    const int burst = 3 + static_cast<int>(env.random() % 4);
    std::map<std::uint64_t, std::string> open;
    for (int b = 0; b < burst && sent < calls; ++b) {
      if (b > 0) {
        co_await env.sleep(sim::microseconds(200) +
                           static_cast<sim::Duration>(env.random() % 800'000));
      }
      const std::string call = me + "-c" + std::to_string(++sent);
      const auto gw = gateways[env.random() % gateways.size()];
      history.invoke(index, "call", call);
      env.send(gw, sim::make_payload<Call>(++req, me, call));
      open[req] = call;
    }
    const sim::Time deadline = env.now() + kAnswerTimeout;
    while (!open.empty()) {
      const sim::Duration left = deadline - env.now();
      if (left <= 0) break;
      const auto m = co_await env.receive_for(left);
      if (!m) break;
      const auto* a = m->as<Answer>();
      if (!a || !open.count(a->req)) continue;
      history.complete(index, a->outcome == "ok" ? sim::OpType::kOk : sim::OpType::kFail, "call",
                       a->call, a->outcome);
      open.erase(a->req);
    }
    for (const auto& [r, call] : open) {
      history.complete(index, sim::OpType::kInfo, "call", call, std::string("no answer"));
    }
  }
}

sim::Task<void> partner(sim::Env& env) {
  for (;;) co_await env.receive();
}

std::string ms(sim::Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(d) / 1e6);
  return buf;
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"rate_window",
            "two gateways share a tenant rate limit through a sliding window of time-stamped rows "
            "in SQL",
            {"buggy", "fixed"},
            {{"rate-limit-holds", "no tenant gets more than 4 calls admitted within 20 ms"}},
            {{"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE calls (id INTEGER PRIMARY KEY AUTOINCREMENT, call TEXT NOT NULL, tenant "
        "TEXT NOT NULL, gateway TEXT NOT NULL, at INTEGER NOT NULL)"};
    const auto db = services::add_sql_service(sim, "db", config);
    auto stamped_at = std::make_shared<std::map<std::string, sim::Time>>();
    NoteStamp note = [&sim, stamped_at](const std::string& call) {
      (*stamped_at)[call] = sim.true_now();
    };
    const auto partner_id =
        sim.add_process("partner", [](sim::Env& env) { return partner(env); },
                        {.crashable = false, .client = false, .pausable = false});
    sim::ProcessId clock_server = sim::kNoProcess;
    if (fixed) {
      clock_server =
          sim.add_process("timekeeper", [note](sim::Env& env) { return timekeeper(env, note); },
                          {.crashable = false, .client = false, .pausable = false});
    }
    std::vector<sim::ProcessId> gateways;
    for (int g = 1; g <= kGateways; ++g) {
      gateways.push_back(
          sim.add_process("gw" + std::to_string(g),
                          [d = db.process, partner_id, clock_server, fixed, note](sim::Env& env) {
                            return gateway(env, d, partner_id, clock_server, fixed, note);
                          },
                          {.crashable = false, .client = false, .pausable = false}));
    }
    auto& history = sim.history();
    const int calls = sim.config().ops;
    for (int t = 0; t < kTenants; ++t) {
      sim.add_process("tenant" + std::to_string(t + 1),
                      [&history, t, gateways, calls](sim::Env& env) {
                        return tenant(env, history, t, gateways, calls);
                      },
                      {.crashable = false, .client = true});
    }
    sim.add_invariant(
        "rate-limit-holds",
        sim::when_changed(
            [truth = db.truth] { return truth->committed().size(); },
            [truth = db.truth, stamped_at]() -> std::optional<sim::Finding> {
              const auto last =
                  truth->query("SELECT call, tenant FROM calls ORDER BY id DESC LIMIT 1");
              if (last.empty()) return std::nullopt;
              const auto call = last[0][0].get<std::string>();
              const auto tenant_id = last[0][1].get<std::string>();
              const auto rows =
                  truth->query("SELECT call FROM calls WHERE tenant = '" + tenant_id + "'");
              const auto mine = stamped_at->find(call);
              if (mine == stamped_at->end()) return std::nullopt;
              std::vector<sim::Time> times;
              for (const auto& row : rows) {
                const auto it = stamped_at->find(row[0].get<std::string>());
                if (it != stamped_at->end()) times.push_back(it->second);
              }
              std::sort(times.begin(), times.end());
              for (std::size_t i = 0; i + kLimit < times.size(); ++i) {
                const auto first = times[i];
                const auto fifth = times[i + kLimit];
                if (fifth - first >= kCheckedWindow) continue;
                if (mine->second < first || mine->second > fifth) continue;
                return sim::Finding{"tenant " + tenant_id + ": call " + call + " was the " +
                                        std::to_string(kLimit + 1) + "th call admitted within " +
                                        ms(fifth - first) + " ms (limit " + std::to_string(kLimit) +
                                        " per 20 ms)",
                                    {call}};
              }
              return std::nullopt;
            }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// The stamp an admission request carries: the integer beside the call id in its parameters.
std::optional<std::int64_t> stamp_of(const nlohmann::json& j, const std::string& call) {
  if (j.is_array()) {
    bool names_call = false;
    std::optional<std::int64_t> number;
    for (const auto& v : j) {
      if (v.is_string() && v.get<std::string>() == call) names_call = true;
      if (v.is_number_integer() && !number) number = v.get<std::int64_t>();
    }
    if (names_call && number) return number;
  }
  if (j.is_array() || j.is_object()) {
    for (const auto& v : j) {
      if (auto s = stamp_of(v, call)) return s;
    }
  }
  return std::nullopt;
}

// From the message: the over-limit call C. Every committed admission (the database's reply send
// for `admit X`, committed) with its request's send (its stamp, taken just before, and the real
// time of that stamp). C's admission; the other admissions of C's tenant committed before it
// whose stamps were taken within 20 ms of C's in real time but are 20 ms or more before C's stamp
// (left out of C's window).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string call = between(violation_message(trace), ": call ", " was the ");
  if (call.empty()) return {};
  const std::string tenant = call.substr(0, call.find('-'));
  struct Admission {
    const TraceEvent* request;
    const TraceEvent* commit;
    std::string call;
    std::int64_t stamp;
  };
  std::vector<Admission> admissions;
  const std::uint64_t until = violation_event(trace);
  for (const auto& e : trace.events) {
    if (e.seq > until) break;
    if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
        !payload(e).value("committed", false)) {
      continue;
    }
    const auto* req = request_send_for(trace, e);
    if (!req) continue;
    const std::string label = payload(*req).value("label", "");
    if (label.rfind("admit " + tenant + "-", 0) != 0) continue;
    const std::string c = label.substr(6);
    const auto stamp = stamp_of(payload(*req), c);
    if (!stamp) continue;
    admissions.push_back({req, &e, c, *stamp});
  }
  const auto over = std::find_if(admissions.begin(), admissions.end(),
                                 [&](const Admission& a) { return a.call == call; });
  if (over == admissions.end()) return {};
  std::vector<std::uint64_t> keys;
  for (const auto& a : admissions) {
    if (a.commit->seq >= over->commit->seq) continue;
    const auto apart = a.request->time > over->request->time
                           ? a.request->time - over->request->time
                           : over->request->time - a.request->time;
    if (apart >= kWindow) continue;
    if (a.stamp > over->stamp - kWindow) continue;  // counted in C's window
    keys.push_back(a.commit->seq);
  }
  if (keys.empty()) return {};
  keys.push_back(over->commit->seq);
  return keys;
}

}  // namespace rate_window

Design make_rate_window() {
  Design d;
  d.name = "rate_window";
  d.bug =
      "two gateways share a sliding-window rate limit in SQL, each stamping calls with its own "
      "clock; with skew a window leaves out the other gateway's recent calls";
  d.system = std::make_unique<rate_window::System>();
  d.invariant = "rate-limit-holds";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kClock};
  d.ops = 40;
  d.held_out = true;
  d.label.kinds = {"clock_behind", "clock_ahead"};
  d.label.why_several =
      "the window compares stamps from two clocks: the admitting gateway's clock being ahead of "
      "the other's and the other's being behind it are one fact; which of them is wrong against "
      "true time is incidental";
  d.label.key_events = rate_window::key_events;
  return d;
}

}  // namespace seer::bench::explain
