// clock_lease: pickers take a lease from the design's own lock server, which states its expiry
// on its own clock.
//
// Spec. Two pickers (`worker1`, `worker2`) take items from one stock row in SQL (`stock(item,
// qty)`, the item `widget`, 1000 in stock) and record each pick (`picks(item, worker)`): a pick
// reads the quantity, then writes `qty - 1` with the pick's line in a second transaction. Only
// the holder of the lease may pick. The lease comes from a lock server (`locker`, the design's
// own process and messages): `acquire {req, worker}` is answered `granted {req, holder, expires,
// ttl_ns}` (15 ms from the grant, `expires` read on the locker's clock) or `busy {req}` while
// another worker holds an unexpired lease. A worker picks while it believes it holds the lease,
// then asks again (giving up after 300 acquisitions).
// Invariant `stock-matches-picks`: the stock fell by exactly the number of recorded picks
// ("item widget: 12 picks recorded but its stock fell by 11").
// Operations (history): `pick` per pick, by each worker.
//
// Bug (variant `buggy`): a worker compares the grant's `expires` with its own clock. A worker
// whose clock is behind the locker's believes the lease lasts longer than it does: the locker
// grants the lease to the other worker, both pick at once, and a pick's write overwrites the
// other's (a lost update: two picks, the stock down by one).
// Fix (variant `fixed`): a worker measures the lease on its own clock, from when it sent the
// acquire (before the locker started the lease) for `ttl_ns`, and starts no pick in the last
// 8 ms of it.
// Faults: clock (no delay faults: a pick, two transactions, takes about 6 ms, under the margin,
// which the fix relies on).
//
// Label. `clock_behind` or `expired_lease`: the late worker's lease grant, the locker's grant of
// the lease to the other worker after it, and the late worker's pick commit (one of the two
// picks that wrote the same quantity) made while the other worker held the lease.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/sql.hpp"

#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace clock_lease {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr sim::Duration kTtl = sim::milliseconds(15);
constexpr sim::Duration kMargin = sim::milliseconds(8);
constexpr sim::Duration kAnswerTimeout = sim::milliseconds(10);
constexpr sim::Duration kSqlTimeout = sim::milliseconds(100);
constexpr int kStock = 1000;
// A worker whose clock is ahead of the locker's takes every grant for already expired; it gives
// up after this many acquisitions instead of asking forever.
constexpr int kMaxAcquires = 300;

struct Acquire : sim::Payload {
  Acquire(std::uint64_t r, std::string w) : req(r), worker(std::move(w)) {}
  std::uint64_t req;
  std::string worker;
  std::string_view type() const override { return "acquire"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"worker", worker}}; }
};

struct Granted : sim::Payload {
  Granted(std::uint64_t r, std::string h, sim::Time e) : req(r), holder(std::move(h)), expires(e) {}
  std::uint64_t req;
  std::string holder;
  sim::Time expires;
  std::string_view type() const override { return "granted"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"holder", holder}, {"expires", expires}, {"ttl_ns", kTtl}};
  }
};

struct Busy : sim::Payload {
  explicit Busy(std::uint64_t r) : req(r) {}
  std::uint64_t req;
  std::string_view type() const override { return "busy"; }
  nlohmann::json to_json() const override { return {{"req", req}}; }
};

sim::Task<void> locker(sim::Env& env) {
  std::string holder;
  sim::Time expires = 0;
  for (;;) {
    const auto m = co_await env.receive();
    const auto* a = m.as<Acquire>();
    if (!a) continue;
    if (holder.empty() || holder == a->worker || env.now() >= expires) {
      holder = a->worker;
      expires = env.now() + kTtl;
      env.send(m.from, sim::make_payload<Granted>(a->req, holder, expires));
    } else {
      env.send(m.from, sim::make_payload<Busy>(a->req));
    }
  }
}

sim::Task<void> worker(sim::Env& env, sim::HistoryRecorder& history, int index,
                       sim::ProcessId lock_server, sim::ProcessId db, int picks, bool fixed) {
  services::SqlClient sql(env, db, kSqlTimeout);
  const std::string me = env.name_of(env.self());
  std::uint64_t req = 0;
  int done = 0;
  for (int acquires = 0; done < picks && acquires < kMaxAcquires; ++acquires) {
    const std::uint64_t r = ++req;
    const sim::Time asked_at = env.now();
    env.send(lock_server, sim::make_payload<Acquire>(r, me));
    std::optional<sim::Time> expires;
    bool answered = false;
    const sim::Time deadline = env.now() + kAnswerTimeout;
    while (!answered) {
      const sim::Duration left = deadline - env.now();
      if (left <= 0) break;
      const auto m = co_await env.receive_for(left);
      if (!m) break;
      if (const auto* g = m->as<Granted>(); g && g->req == r) {
        answered = true;
        expires = g->expires;
      } else if (const auto* b = m->as<Busy>(); b && b->req == r) {
        answered = true;
      }
    }
    if (!expires) {
      co_await env.sleep(sim::milliseconds(2) +
                         static_cast<sim::Duration>(env.random() % 3'000'000));
      continue;
    }
    // Buggy: the locker's clock's deadline, read on this worker's clock.
    const sim::Time until = fixed ? asked_at + kTtl - kMargin : *expires;
    while (done < picks && env.now() < until) {
      history.invoke(index, "pick", "widget");
      const std::vector<services::SqlStatement> read = {
          {"SELECT qty FROM stock WHERE item = ?1", {"widget"}, std::nullopt}};
      const auto got = co_await sql.transact(read, "read widget by " + me);
      if (got.timed_out || !got.committed || got.results[0].empty()) {
        history.complete(index, sim::OpType::kInfo, "pick", "widget", "no stock read");
        continue;
      }
      const auto qty = got.results[0][0][0].get<std::int64_t>();
      const std::vector<services::SqlStatement> pick = {
          {"UPDATE stock SET qty = ?1 WHERE item = ?2", {qty - 1, "widget"}, 1},
          {"INSERT INTO picks (item, worker) VALUES (?1, ?2)", {"widget", me}, 1}};
      const auto w = co_await sql.transact(pick, "pick widget by " + me);
      const bool ok = !w.timed_out && w.committed;
      if (ok) ++done;
      history.complete(index, ok ? sim::OpType::kOk : sim::OpType::kInfo, "pick", "widget");
    }
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 2'000'000));
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"clock_lease",
            "two pickers take stock under a lease from a lock server that states its expiry on "
            "its own clock",
            {"buggy", "fixed"},
            {{"stock-matches-picks", "the stock fell by exactly the number of recorded picks"}},
            {{"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE stock (item TEXT PRIMARY KEY, qty INTEGER NOT NULL)",
        "INSERT INTO stock VALUES ('widget', " + std::to_string(kStock) + ")",
        "CREATE TABLE picks (id INTEGER PRIMARY KEY AUTOINCREMENT, item TEXT NOT NULL, worker "
        "TEXT NOT NULL)"};
    const auto db = services::add_sql_service(sim, "db", config);
    const auto lock_server = sim.add_process("locker", [](sim::Env& env) { return locker(env); },
                                             {.crashable = false, .client = false});
    auto& history = sim.history();
    const int picks = sim.config().ops / 2;
    for (int w = 0; w < 2; ++w) {
      sim.add_process("worker" + std::to_string(w + 1),
                      [&history, w, lock_server, d = db.process, picks, fixed](sim::Env& env) {
                        return worker(env, history, w, lock_server, d, picks, fixed);
                      },
                      {.crashable = false, .client = true});
    }
    sim.add_invariant(
        "stock-matches-picks",
        sim::when_changed([truth = db.truth] { return truth->committed().size(); },
                          [truth = db.truth]() -> std::optional<sim::Finding> {
                            const auto rows = truth->query(
                                "SELECT (SELECT count(*) FROM picks WHERE item = 'widget'), "
                                "(SELECT qty FROM stock WHERE item = 'widget')");
                            if (rows.empty()) return std::nullopt;
                            const auto recorded = rows[0][0].get<std::int64_t>();
                            const auto fell = kStock - rows[0][1].get<std::int64_t>();
                            if (recorded == fell) return std::nullopt;
                            return sim::Finding{"item widget: " + std::to_string(recorded) +
                                                    " picks recorded but its stock fell by " +
                                                    std::to_string(fell),
                                                {"widget"}};
                          }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// The pick commits (the database's reply sends for "pick widget by W" that committed), each with
// the quantity its transaction wrote (its first parameter). The first commit that wrote the same
// quantity as an earlier one is the lost update; of the two, the late pick is the one whose
// worker was not the lease's holder at its commit (the locker's latest grant before it named the
// other worker). Keys: the late worker's latest grant before that other grant, the other
// worker's grant, and the late pick's commit.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  if (violation_message(trace).rfind("item widget", 0) != 0) return {};
  struct Pick {
    const TraceEvent* commit;
    std::string worker;
    std::int64_t qty;
  };
  std::vector<Pick> picks;
  for (const auto& e : trace.events) {
    if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
        !payload(e).value("committed", false)) {
      continue;
    }
    const auto* req = request_send_for(trace, e);
    if (!req) continue;
    const std::string label = payload(*req).value("label", "");
    if (label.rfind("pick widget by ", 0) != 0) continue;
    const auto& statements = payload(*req).value("statements", nlohmann::json::array());
    if (!statements.is_array() || statements.empty()) continue;
    const auto& params = statements[0].value("params", nlohmann::json::array());
    if (!params.is_array() || params.empty() || !params[0].is_number_integer()) continue;
    picks.push_back(
        {&e, label.substr(std::string("pick widget by ").size()), params[0].get<std::int64_t>()});
  }
  auto holder_at = [&](const TraceEvent& at) -> const TraceEvent* {
    return find_last(
        trace,
        [&](const TraceEvent& e) { return e.kind == EventKind::kSend && e.type == "granted"; },
        at.seq);
  };
  for (std::size_t j = 0; j < picks.size(); ++j) {
    for (std::size_t i = 0; i < j; ++i) {
      if (picks[i].qty != picks[j].qty) continue;
      for (const auto* p : {&picks[i], &picks[j]}) {
        const auto* other = holder_at(*p->commit);
        if (!other || payload(*other).value("holder", "") == p->worker) continue;
        const auto* own = find_last(
            trace,
            [&](const TraceEvent& e) {
              return e.kind == EventKind::kSend && e.type == "granted" &&
                     payload(e).value("holder", "") == p->worker;
            },
            other->seq);
        if (!own) continue;
        const auto* takeover = find_first(
            trace,
            [&](const TraceEvent& e) {
              return e.kind == EventKind::kSend && e.type == "granted" &&
                     payload(e).value("holder", "") != p->worker;
            },
            own->seq);
        if (!takeover) continue;
        return {own->seq, takeover->seq, p->commit->seq};
      }
      return {};
    }
  }
  return {};
}

}  // namespace clock_lease

Design make_clock_lease() {
  Design d;
  d.name = "clock_lease";
  d.bug =
      "a worker reads its lease's expiry, stated on the lock server's clock, on its own clock: "
      "behind, it keeps picking after the lease passed to the other worker, and a pick is lost";
  d.system = std::make_unique<clock_lease::System>();
  d.invariant = "stock-matches-picks";
  d.faults = {sim::FaultKind::kClock};
  d.ops = 40;
  d.held_out = true;
  d.label.kinds = {"clock_behind", "expired_lease"};
  d.label.why_several =
      "the worker acted after its lease had expired in real time and after the locker gave it "
      "to the other worker (expired_lease) because its clock, reading the locker's deadline, was "
      "behind the locker's (clock_behind): one fact, named from the lease or from the clock";
  d.label.key_events = clock_lease::key_events;
  return d;
}

}  // namespace seer::bench::explain
