// usage_meter: metering API usage into per-tenant quotas, from usage events on a queue.
//
// Spec. An API gateway enqueues one usage event per billable call on the at-least-once queue:
// {event, tenant, units}. A meter consumes them: it reads the tenant's usage from the database
// (`usage(tenant, used)`), adds the event's units and writes the new total together with a line in
// the usage ledger (`ledger(event_id, tenant, units)`), then pushes the new total to the billing
// dashboard (slow) and acks the event. Quota checks read `usage.used`.
// Invariant `usage-counted-once`: no usage event is counted twice ("usage event ev-12 (tenant t2)
// was counted 2 times").
// Operations (history): `call` (the gateway's enqueue of a usage event).
//
// Bug (variant `buggy`): the meter is not idempotent. When it crashes after its transaction
// committed and before its ack (while pushing to the dashboard), the queue delivers the event
// again after the visibility timeout, and the restarted meter counts it a second time.
// Fix (variant `fixed`): the ledger's event id is its primary key, written in the same
// transaction: a second delivery fails on the key, rolls back, and is only acked.
// Faults: delay, crash (the meter and the database may crash; the gateway does not).
//
// Label: `duplicate_delivery`, not `crash_lost_data`: the crash takes nothing back (the commit is
// durable, the meter keeps nothing on local disk); it only prevents the ack, and the queue's
// redelivery of a message whose effect was already applied is what counts it twice.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/queue.hpp"
#include "seer/services/sql.hpp"

namespace seer::bench::explain {

using seer::explain::EventKind;

namespace usage_meter {

constexpr int kTenants = 3;
constexpr sim::Duration kQueueTimeout = sim::milliseconds(50);
constexpr sim::Duration kSqlTimeout = sim::milliseconds(150);

sim::Task<void> gateway(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId queue,
                        int calls) {
  services::QueueClient q(env, queue, kQueueTimeout);
  for (int n = 1; n <= calls; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 6'000'000));
    nlohmann::json body;
    body["event"] = "ev-" + std::to_string(n);
    body["tenant"] = "t" + std::to_string(env.random() % kTenants + 1);
    body["units"] = static_cast<int>(env.random() % 5) + 1;
    history.invoke(0, "call", body["event"]);
    const auto r = co_await q.enqueue(body);
    history.complete(0, r.timed_out ? sim::OpType::kInfo : sim::OpType::kOk, "call", body["event"]);
  }
  co_await env.sleep(sim::milliseconds(600));  // let the meter drain the queue
}

sim::Task<void> meter(sim::Env& env, sim::ProcessId queue, sim::ProcessId db) {
  services::QueueClient q(env, queue, kQueueTimeout);
  services::SqlClient sql(env, db, kSqlTimeout, nullptr, env.random());
  for (;;) {
    const auto got = co_await q.receive();
    if (got.timed_out) continue;
    if (!got.found) {
      co_await env.sleep(sim::milliseconds(3));
      continue;
    }
    const auto event = got.body.at("event").get<std::string>();
    const auto tenant = got.body.at("tenant").get<std::string>();
    const auto units = got.body.at("units").get<std::int64_t>();
    const std::vector<services::SqlStatement> read_usage = {
        {"SELECT used FROM usage WHERE tenant = ?1", {tenant}, std::nullopt}};
    const auto read = co_await sql.transact(read_usage, "read usage " + tenant);
    if (read.timed_out || !read.committed || read.results[0].empty()) continue;  // redelivered
    const auto used = read.results[0][0][0].get<std::int64_t>();
    const std::vector<services::SqlStatement> count = {
        {"INSERT INTO ledger (event_id, tenant, units) VALUES (?1, ?2, ?3)",
         {event, tenant, units},
         1},
        {"UPDATE usage SET used = ?1 WHERE tenant = ?2", {used + units, tenant}, 1}};
    const auto r = co_await sql.transact(count, "count " + event);
    if (r.timed_out) continue;  // not acked: the queue delivers it again
    if (r.committed) {
      // Push the tenant's new total to the billing dashboard.
      co_await env.sleep(sim::milliseconds(4) +
                         static_cast<sim::Duration>(env.random() % 8'000'000));
    }
    // A rollback (fixed: the ledger's key) means the event was already counted: ack it too.
    co_await q.ack(got.message_id);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"usage_meter",
            "a meter counts usage events from an at-least-once queue into per-tenant totals in SQL",
            {"buggy", "fixed"},
            {{"usage-counted-once", "no usage event is counted twice"}},
            {{"queue", {"at-least-once"}}, {"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto queue = services::add_queue_service(sim, "queue");
    services::SqlConfig config;
    config.schema = {
        fixed ? "CREATE TABLE ledger (event_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, "
                "units INTEGER NOT NULL)"
              : "CREATE TABLE ledger (id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT "
                "NULL, tenant TEXT NOT NULL, units INTEGER NOT NULL)",
        "CREATE TABLE usage (tenant TEXT PRIMARY KEY, used INTEGER NOT NULL)"};
    for (int t = 1; t <= kTenants; ++t) {
      config.schema.push_back("INSERT INTO usage VALUES ('t" + std::to_string(t) + "', 0)");
    }
    const auto db = services::add_sql_service(sim, "db", config);
    sim.add_process("meter",
                    [q = queue.process, d = db.process](sim::Env& env) { return meter(env, q, d); },
                    {.crashable = true, .client = false});
    auto& history = sim.history();
    const int calls = sim.config().ops;
    sim.add_process("gateway",
                    [&history, q = queue.process, calls](sim::Env& env) {
                      return gateway(env, history, q, calls);
                    },
                    {.crashable = false, .client = true});
    const auto truth = db.truth;
    auto checked = std::make_shared<std::size_t>(0);
    sim.add_invariant("usage-counted-once", [truth, checked]() -> std::optional<std::string> {
      if (*checked == truth->committed().size()) return std::nullopt;
      *checked = truth->committed().size();
      const auto rows = truth->query(
          "SELECT event_id, tenant, count(*) FROM ledger GROUP BY event_id HAVING count(*) > 1 "
          "ORDER BY min(rowid) LIMIT 1");
      if (rows.empty()) return std::nullopt;
      return "usage event " + rows[0][0].get<std::string>() + " (tenant " +
             rows[0][1].get<std::string>() + ") was counted " + rows[0][2].dump() + " times";
    });
  }
};

// Label. From the message: the event E. The cause: the delivery of E's message that led to the
// first count, the meter's crash between the two deliveries (while the first count was committing
// or after it: what kept the ack from being sent), the delivery that led to the second count (the
// redelivery), and the second count's commit (the database's reply send).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string event = between(violation_message(trace), "usage event ", " (tenant ");
  if (event.empty()) return {};
  const auto commits = find_all(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
        !payload(e).value("committed", false)) {
      return false;
    }
    const auto* req = request_send_for(trace, e);
    return req && payload(*req).value("label", "") == "count " + event;
  });
  if (commits.size() < 2) return {};
  const auto deliveries = find_all(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kDeliver || e.type != "queue_reply" ||
        process_of(trace, e) != "meter") {
      return false;
    }
    const auto& body = payload(e).value("body", nlohmann::json());
    return body.is_object() && body.value("event", "") == event;
  });
  const auto* first_req = request_send_for(trace, *commits[0]);
  const auto* second_req = request_send_for(trace, *commits[1]);
  if (!first_req || !second_req) return {};
  const TraceEvent* first = nullptr;
  const TraceEvent* second = nullptr;
  for (const auto* d : deliveries) {
    if (d->seq < first_req->seq) first = d;
    if (d->seq < second_req->seq) second = d;
  }
  if (!first || !second || first == second) return {};
  std::vector<std::uint64_t> keys = {first->seq};
  // The meter's crash between the two deliveries (during the count's commit or after it).
  const auto* crash = find_first(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kCrash && process_of(trace, e) == "meter" &&
               e.seq < second->seq;
      },
      first->seq);
  if (crash) keys.push_back(crash->seq);
  keys.push_back(second->seq);
  keys.push_back(commits[1]->seq);
  return keys;
}

}  // namespace usage_meter

Design make_usage_meter() {
  Design d;
  d.name = "usage_meter";
  d.bug =
      "a meter that crashes between counting a usage event and acking it counts the redelivered "
      "event again";
  d.system = std::make_unique<usage_meter::System>();
  d.invariant = "usage-counted-once";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kCrash};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"duplicate_delivery"};
  d.label.key_events = usage_meter::key_events;
  return d;
}

}  // namespace seer::bench::explain
