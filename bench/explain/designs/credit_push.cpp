// credit_push: a rate limiter that pushes call credits to workers.
//
// Spec. A partner API allows a fixed number of calls; a limiter (`limiter`, the design's own
// process) hands the allowance out as credits, pushing one credit at a time to two workers
// (`worker1`, `worker2`, alternately) every 1-3 ms: `credit {credit: "cr-7"}` (no request, no
// answer: credit-based flow control). A worker keeps the credits it holds in a queue and spends
// one per call: the call is recorded in SQL (`calls(credit, worker)`, one transaction per call,
// standing for the call to the partner and its bookkeeping).
// Invariant `credit-spent-once`: no credit pays for two calls ("credit cr-7 paid for 2 calls
// (worker2, worker2)").
// Operations (history): `grant` per credit by the limiter.
//
// Bug (variant `buggy`): the worker adds every credit message it receives to its queue. The
// network may deliver a message twice (`duplicate`): the copy is a second credit with the same
// id, and the worker makes a call the limiter never allowed.
// Fix (variant `fixed`): the worker remembers the credit ids it has taken and ignores a repeat.
// Faults: delay, duplicate.
//
// Label: `duplicate_delivery`: the worker's two deliveries of the credit's message (the original
// and the network's copy), and the second call's commit (the database's reply send for it).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/sql.hpp"

#include <deque>
#include <memory>
#include <optional>
#include <set>

namespace seer::bench::explain {

namespace credit_push {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kWorkers = 2;
constexpr sim::Duration kSqlTimeout = sim::milliseconds(100);

struct Credit : sim::Payload {
  explicit Credit(std::string c) : credit(std::move(c)) {}
  std::string credit;
  std::string_view type() const override { return "credit"; }
  nlohmann::json to_json() const override { return {{"credit", credit}}; }
};

sim::Task<void> limiter(sim::Env& env, sim::HistoryRecorder& history,
                        std::vector<sim::ProcessId> workers, int credits) {
  for (int n = 1; n <= credits; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 2'000'000));
    const std::string credit = "cr-" + std::to_string(n);
    history.invoke(0, "grant", credit);
    env.send(workers[static_cast<std::size_t>(n) % workers.size()],
             sim::make_payload<Credit>(credit));
    history.complete(0, sim::OpType::kOk, "grant", credit);
  }
  co_await env.sleep(sim::milliseconds(100));  // let the workers spend what they hold
}

sim::Task<void> worker(sim::Env& env, sim::ProcessId db, bool fixed) {
  std::deque<sim::Message> inbox;  // credits that arrive while a call is being recorded
  services::SqlClient sql(env, db, kSqlTimeout, &inbox);
  const std::string me = env.name_of(env.self());
  std::deque<std::string> held;  // credits not yet spent
  std::set<std::string> taken;   // fixed: every credit id this worker has taken
  for (;;) {
    sim::Message m;
    if (!inbox.empty()) {
      m = std::move(inbox.front());
      inbox.pop_front();
    } else {
      m = co_await env.receive();
    }
    const auto* c = m.as<Credit>();
    if (!c) continue;
    if (fixed && !taken.insert(c->credit).second) continue;  // a credit already taken
    held.push_back(c->credit);
    while (!held.empty()) {
      const std::string credit = held.front();
      held.pop_front();
      const std::vector<services::SqlStatement> call = {
          {"INSERT INTO calls (credit, worker) VALUES (?1, ?2)", {credit, me}, 1}};
      co_await sql.transact(call, "call " + credit);
      // Credits that arrived meanwhile wait in the inbox; take them into `held` first.
      while (!inbox.empty()) {
        const auto* more = inbox.front().as<Credit>();
        if (more && (!fixed || taken.insert(more->credit).second)) held.push_back(more->credit);
        inbox.pop_front();
      }
    }
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"credit_push",
            "a limiter pushes call credits to two workers, each credit paying for one call",
            {"buggy", "fixed"},
            {{"credit-spent-once", "no credit pays for two calls"}},
            {{"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE calls (id INTEGER PRIMARY KEY AUTOINCREMENT, credit TEXT NOT NULL, "
        "worker TEXT NOT NULL)"};
    const auto db = services::add_sql_service(sim, "db", config);
    std::vector<sim::ProcessId> workers;
    for (int w = 1; w <= kWorkers; ++w) {
      workers.push_back(
          sim.add_process("worker" + std::to_string(w),
                          [d = db.process, fixed](sim::Env& env) { return worker(env, d, fixed); },
                          {.crashable = false, .client = false, .pausable = false}));
    }
    auto& history = sim.history();
    const int credits = sim.config().ops;
    sim.add_process("limiter",
                    [&history, workers, credits](sim::Env& env) {
                      return limiter(env, history, workers, credits);
                    },
                    {.crashable = false, .client = true});
    sim.add_invariant(
        "credit-spent-once",
        sim::when_changed([truth = db.truth] { return truth->committed().size(); },
                          [truth = db.truth]() -> std::optional<sim::Finding> {
                            const auto rows = truth->query(
                                "SELECT credit, count(*), group_concat(worker, ', ') FROM calls "
                                "GROUP BY credit HAVING count(*) > 1 ORDER BY max(id) LIMIT 1");
                            if (rows.empty()) return std::nullopt;
                            const auto credit = rows[0][0].get<std::string>();
                            return sim::Finding{"credit " + credit + " paid for " +
                                                    rows[0][1].dump() + " calls (" +
                                                    rows[0][2].get<std::string>() + ")",
                                                {credit}};
                          }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the credit C. Its message: the limiter's send of `credit` C. The worker's
// deliveries of that message (the original and the copy: the same message id). The second call's
// commit: the database's reply send for the second committed "call C". The keys: the first
// delivery, the second delivery, the second commit.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string credit = between(violation_message(trace), "credit ", " paid for");
  if (credit.empty()) return {};
  const TraceEvent* send = find_first(trace, [&](const TraceEvent& e) {
    return e.kind == EventKind::kSend && e.type == "credit" &&
           payload(e).value("credit", "") == credit;
  });
  if (!send) return {};
  const auto deliveries = find_all(trace, [&](const TraceEvent& e) {
    return e.kind == EventKind::kDeliver && e.message == send->message;
  });
  if (deliveries.size() < 2) return {};
  const auto commits = find_all(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
        !payload(e).value("committed", false)) {
      return false;
    }
    const auto* req = request_send_for(trace, e);
    return req && payload(*req).value("label", "") == "call " + credit;
  });
  std::vector<std::uint64_t> keys = {deliveries[0]->seq, deliveries[1]->seq};
  if (commits.size() >= 2) keys.push_back(commits[1]->seq);
  return keys;
}

}  // namespace credit_push

Design make_credit_push() {
  Design d;
  d.name = "credit_push";
  d.bug =
      "a worker queues every credit message it receives: a network copy of a credit pays for a "
      "second call";
  d.system = std::make_unique<credit_push::System>();
  d.invariant = "credit-spent-once";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kDuplicate};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"duplicate_delivery"};
  d.label.key_events = credit_push::key_events;
  return d;
}

}  // namespace seer::bench::explain
