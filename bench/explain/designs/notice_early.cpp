// notice_early: an order service that announces a status change before committing it.
//
// Spec. A shop (`shop`, the design's own process) moves orders `o-1`..`o-4` through their
// statuses; each change gives the order its next version. For each change it commits the new
// status in SQL (`orders(id, status, version)`) and announces it on the at-least-once queue as
// an event {order, version}; in between it charges or books the order with a provider (2-6 ms).
// A notifier (`notifier`, own process) consumes the events: it reads the order's status, texts
// the customer (3-8 ms at the SMS provider) and records the notice
// (`notices(order_id, event_version, status, status_version)`), then acks the event.
// Invariant `notice-shows-announced-status`: a notice never shows an older status than the
// event it answers ("order o-3's notice for version 4 showed status 'paid' of version 3").
// Operations (history): `change` per status change by the shop.
//
// Bug (variant `buggy`): the shop enqueues the event first, "so that the customer hears at once",
// and commits the change after the provider call. The event overtakes the data it announces:
// the notifier reads the order before the commit and texts, and records, the previous status.
// Fix (variant `fixed`): the shop commits the change first and enqueues the event after the
// commit (the announcement follows the data it announces).
// Faults: delay, reorder.
//
// Label: `stale_derived_write` or `outdated_read`. The notice is a copy of the notifier's read
// written to another table, and the shop's commit of the announced version changed what that
// read returned (a derived write from a read that the commit overtook); equally, the read was
// right when served and the commit made it outdated before the notifier's decision (the notice)
// took effect. Key events: the notifier's read of the order (its delivery), the shop's commit of
// the announced version (the database's reply send), the notice's commit (its reply send).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/queue.hpp"
#include "seer/services/sql.hpp"

#include <map>

namespace seer::bench::explain {

namespace notice_early {

using seer::explain::EventKind;

constexpr int kOrders = 4;
constexpr sim::Duration kQueueTimeout = sim::milliseconds(50);
constexpr sim::Duration kSqlTimeout = sim::milliseconds(150);
const char* const kStatuses[] = {"placed", "paid", "packed", "shipped", "delivered"};

sim::Duration between_ms(sim::Env& env, int lo, int hi) {
  return sim::milliseconds(lo) +
         static_cast<sim::Duration>(env.random() %
                                    static_cast<std::uint64_t>((hi - lo) * 1'000'000));
}

sim::Task<void> shop(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId queue,
                     sim::ProcessId db, int changes, bool fixed) {
  services::QueueClient q(env, queue, kQueueTimeout);
  services::SqlClient sql(env, db, kSqlTimeout);
  std::map<std::string, int> version;  // the shop is the only writer of an order's status
  for (int n = 1; n <= changes; ++n) {
    co_await env.sleep(between_ms(env, 1, 4));
    const std::string order = "o-" + std::to_string(env.random() % kOrders + 1);
    const int v = ++version[order];
    const std::string status = kStatuses[(v - 1) % 5];
    const nlohmann::json event = {{"order", order}, {"version", v}};
    history.invoke(0, "change", event);
    const std::vector<services::SqlStatement> change = {
        {"INSERT INTO orders (id, status, version) VALUES (?1, ?2, ?3) ON CONFLICT(id) DO UPDATE "
         "SET status = ?2, version = ?3",
         {order, status, v},
         1}};
    bool ok = true;
    if (!fixed) {
      const auto e = co_await q.enqueue(event);  // announced first
      ok = !e.timed_out;
      co_await env.sleep(between_ms(env, 2, 6));  // charge or book it with the provider
      const auto r = co_await sql.transact(change, "status " + order + " v" + std::to_string(v));
      ok = ok && !r.timed_out && r.committed;
    } else {
      co_await env.sleep(between_ms(env, 2, 6));
      const auto r = co_await sql.transact(change, "status " + order + " v" + std::to_string(v));
      ok = !r.timed_out && r.committed;
      if (ok) ok = !(co_await q.enqueue(event)).timed_out;  // announced after the commit
    }
    history.complete(0, ok ? sim::OpType::kOk : sim::OpType::kInfo, "change", event);
  }
  co_await env.sleep(sim::milliseconds(400));  // let the notifier drain the queue
}

sim::Task<void> notifier(sim::Env& env, sim::ProcessId queue, sim::ProcessId db) {
  services::QueueClient q(env, queue, kQueueTimeout);
  services::SqlClient sql(env, db, kSqlTimeout);
  for (;;) {
    const auto got = co_await q.receive();
    if (got.timed_out) continue;
    if (!got.found) {
      co_await env.sleep(sim::milliseconds(2));
      continue;
    }
    const auto order = got.body.at("order").get<std::string>();
    const auto v = got.body.at("version").get<int>();
    const std::string tag = order + " v" + std::to_string(v);
    const std::vector<services::SqlStatement> select = {
        {"SELECT status, version FROM orders WHERE id = ?1", {order}, std::nullopt}};
    const auto read = co_await sql.transact(select, "read " + tag);
    if (read.timed_out || !read.committed || read.results[0].empty()) continue;  // delivered again
    const auto status = read.results[0][0][0].get<std::string>();
    const auto status_version = read.results[0][0][1].get<int>();
    co_await env.sleep(between_ms(env, 3, 8));  // text the customer through the SMS provider
    const std::vector<services::SqlStatement> notice = {
        {"INSERT INTO notices (order_id, event_version, status, status_version) VALUES (?1, ?2, "
         "?3, ?4)",
         {order, v, status, status_version},
         1}};
    const auto r = co_await sql.transact(notice, "notice " + tag);
    if (r.timed_out) continue;
    co_await q.ack(got.message_id);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"notice_early",
            "a shop announces order status changes on a queue; a notifier texts the customer the "
            "status it reads",
            {"buggy", "fixed"},
            {{"notice-shows-announced-status",
              "a notice never shows an older status than the event it answers"}},
            {{"queue", {"at-least-once"}}, {"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto queue = services::add_queue_service(sim, "queue");
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE orders (id TEXT PRIMARY KEY, status TEXT NOT NULL, version INTEGER NOT NULL)",
        "CREATE TABLE notices (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL, "
        "event_version INTEGER NOT NULL, status TEXT NOT NULL, status_version INTEGER NOT NULL)"};
    const auto db = services::add_sql_service(sim, "db", config);
    sim.add_process(
        "notifier",
        [q = queue.process, d = db.process](sim::Env& env) { return notifier(env, q, d); },
        {.crashable = false, .client = false});
    auto& history = sim.history();
    const int changes = sim.config().ops;
    sim.add_process("shop",
                    [&history, q = queue.process, d = db.process, changes, fixed](sim::Env& env) {
                      return shop(env, history, q, d, changes, fixed);
                    },
                    {.crashable = false, .client = true});
    sim.add_invariant(
        "notice-shows-announced-status",
        sim::when_changed([truth = db.truth] { return truth->committed().size(); },
                          [truth = db.truth]() -> std::optional<sim::Finding> {
                            const auto rows = truth->query(
                                "SELECT order_id, event_version, status, status_version FROM "
                                "notices WHERE status_version < event_version ORDER BY id LIMIT 1");
                            if (rows.empty()) return std::nullopt;
                            const auto order = rows[0][0].get<std::string>();
                            return sim::Finding{"order " + order + "'s notice for version " +
                                                    rows[0][1].dump() + " showed status '" +
                                                    rows[0][2].get<std::string>() +
                                                    "' of version " + rows[0][3].dump(),
                                                {order}};
                          }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// The committed transaction labelled `label` (the database's reply send), or nullptr.
const TraceEvent* commit_labelled(const Trace& trace, const std::string& label) {
  return find_first(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
        !payload(e).value("committed", false)) {
      return false;
    }
    const auto* req = request_send_for(trace, e);
    return req && payload(*req).value("label", "") == label;
  });
}

// From the message: the order O and the announced version V. The notice's commit ("notice O vV"),
// the notifier's read for it (the last "read O vV" reply delivered to the notifier before the
// notice was sent), and the shop's commit of the announced version ("status O vV"), or its
// enqueue of the event when that commit had not happened yet.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string order = between(msg, "order ", "'s notice");
  const std::string version = between(msg, "for version ", " showed");
  if (order.empty() || version.empty()) return {};
  const std::string tag = order + " v" + version;
  const auto* notice = commit_labelled(trace, "notice " + tag);
  if (!notice) return {};
  const auto* notice_req = request_send_for(trace, *notice);
  if (!notice_req) return {};
  const auto* read = find_last(
      trace,
      [&](const TraceEvent& e) {
        if (e.kind != EventKind::kDeliver || e.type != "sql_reply" ||
            process_of(trace, e) != "notifier") {
          return false;
        }
        const auto* reply = send_of(trace, e);
        const auto* req = reply ? request_send_for(trace, *reply) : nullptr;
        return req && payload(*req).value("label", "") == "read " + tag;
      },
      notice_req->seq);
  // The announced change: its commit; when the notice came before the shop even committed (the
  // run stops at the violation), the announcement itself (the queue's reply to the enqueue of
  // {O, V}: where the event took effect), the only trace of the change the read could not see.
  const TraceEvent* change = commit_labelled(trace, "status " + tag);
  if (!change) {
    change = find_first(trace, [&](const TraceEvent& e) {
      if (e.kind != EventKind::kSend || e.type != "queue_reply" ||
          process_of(trace, e) != "queue") {
        return false;
      }
      const auto* req = request_send_for(trace, e);
      if (!req || process_of(trace, *req) != "shop") return false;
      const auto& body = payload(*req).value("body", nlohmann::json());
      return body.is_object() && body.value("order", "") == order &&
             std::to_string(body.value("version", 0)) == version;
    });
  }
  if (!read || !change) return {};
  return {read->seq, change->seq, notice->seq};
}

}  // namespace notice_early

Design make_notice_early() {
  Design d;
  d.name = "notice_early";
  d.bug =
      "a shop announces an order's status change on the queue before committing it; the notifier "
      "reads the order first and texts the previous status";
  d.system = std::make_unique<notice_early::System>();
  d.invariant = "notice-shows-announced-status";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"stale_derived_write", "outdated_read"};
  d.label.why_several =
      "the notice is a copy of the read written to another table after the commit overtook that "
      "read (a derived write), and the same read was outdated by the commit before the decision "
      "it made took effect";
  d.label.key_events = notice_early::key_events;
  return d;
}

}  // namespace seer::bench::explain
