// charge_requeue: billers that hand a timed-out charge back to the queue as a retry.
//
// Spec. A shop enqueues paid orders on the at-least-once queue ({order, amount}). Two billers
// (`biller1`, `biller2`) take orders off the queue and charge each one: a SQL transaction that
// records the charge (`charges(id, order_id, amount, biller)`), then ack the message. A biller
// gives the database 6 ms; so that one slow charge does not hold a biller up (or leave the order
// invisible on the queue for its 100 ms visibility timeout), a charge without an answer in time is
// handed back: the biller enqueues a retry of the order ({order, amount, attempt}, delivered after
// 5 ms, to whichever biller takes it) and acks the message it had.
// Invariant `order-charged-once`: no order is charged twice ("order o-7 was charged 2 times
// (biller1, biller2)").
// Operations (history): `order` per order, the shop's enqueue.
//
// Bug (variant `buggy`): the retry takes a timeout for "not charged", but a timeout says nothing
// about whether the charge committed: the database applied it and lost its answer, or the answer
// was late. The retry, a new message on the queue that the queue's own delivery bookkeeping knows
// nothing about, charges the order again.
// Fix (variant `fixed`): the order id is the charges table's primary key: a retry of an order that
// was charged rolls back on the key and is acked as done.
// Faults: delay, lost-response.
//
// Label. `lost_response`: the first charge took effect but the biller never learned it, and its
// retry charged again. Key events: where the first charge took effect (the database's reply send,
// else its `lost_response` note), where its answer was lost (the note, a drop of the reply, else
// the biller's receive timeout), the biller's enqueue of the retry (its queue request's send), the
// second charge's commit (the database's reply send, else its note).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/queue.hpp"
#include "seer/services/sql.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace seer::bench::explain {

namespace charge_requeue {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr sim::Duration kQueueTimeout = sim::milliseconds(20);
constexpr sim::Duration kSqlTimeout = sim::milliseconds(6);
constexpr sim::Duration kRetryAfter = sim::milliseconds(5);

sim::Task<void> shop(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId queue,
                     int orders) {
  services::QueueClient q(env, queue, kQueueTimeout);
  for (int n = 1; n <= orders; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 3'000'000));
    nlohmann::json body;
    body["order"] = "o-" + std::to_string(n);
    body["amount"] = static_cast<int>(env.random() % 90) + 10;
    body["attempt"] = 1;
    history.invoke(0, "order", body["order"]);
    const auto r = co_await q.enqueue(body);
    history.complete(0, r.timed_out ? sim::OpType::kInfo : sim::OpType::kOk, "order",
                     body["order"]);
  }
  co_await env.sleep(sim::milliseconds(300));  // let the billers drain the queue
}

sim::Task<void> biller(sim::Env& env, sim::ProcessId queue, sim::ProcessId db) {
  services::QueueClient q(env, queue, kQueueTimeout);
  services::SqlClient sql(env, db, kSqlTimeout);
  const std::string me = env.name_of(env.self());
  for (;;) {
    const auto got = co_await q.receive();
    if (got.timed_out) continue;
    if (!got.found) {
      co_await env.sleep(sim::milliseconds(2));
      continue;
    }
    const auto order = got.body.at("order").get<std::string>();
    const auto amount = got.body.at("amount").get<std::int64_t>();
    const auto attempt = got.body.value("attempt", 1);
    const std::vector<services::SqlStatement> charge = {
        {"INSERT INTO charges (order_id, amount, biller) VALUES (?1, ?2, ?3)",
         {order, amount, me},
         1}};
    const auto r = co_await sql.transact(charge, "charge " + order);
    if (r.timed_out) {
      // Not answered in time: hand the order back as a retry, so this biller moves on.
      nlohmann::json retry = got.body;
      retry["attempt"] = attempt + 1;
      co_await q.enqueue(retry, kRetryAfter);
    }
    // Committed, or rolled back (fixed: the order was charged already): done with this message.
    co_await q.ack(got.message_id);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"charge_requeue",
            "billers charge queued orders in SQL and enqueue a retry of a charge that timed out",
            {"buggy", "fixed"},
            {{"order-charged-once", "no order is charged twice"}},
            {{"queue", {"at-least-once"}}, {"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto queue = services::add_queue_service(sim, "queue");
    services::SqlConfig config;
    config.schema = {
        fixed ? "CREATE TABLE charges (order_id TEXT PRIMARY KEY, amount INTEGER NOT NULL, "
                "biller TEXT NOT NULL)"
              : "CREATE TABLE charges (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT "
                "NULL, amount INTEGER NOT NULL, biller TEXT NOT NULL)"};
    const auto db = services::add_sql_service(sim, "db", config);
    for (int b = 1; b <= 2; ++b) {
      sim.add_process(
          "biller" + std::to_string(b),
          [q = queue.process, d = db.process](sim::Env& env) { return biller(env, q, d); },
          {.crashable = false, .client = false});
    }
    auto& history = sim.history();
    const int orders = sim.config().ops;
    sim.add_process("shop",
                    [&history, q = queue.process, orders](sim::Env& env) {
                      return shop(env, history, q, orders);
                    },
                    {.crashable = false, .client = true});
    sim.add_invariant(
        "order-charged-once",
        sim::when_changed([truth = db.truth] { return truth->committed().size(); },
                          [truth = db.truth]() -> std::optional<sim::Finding> {
                            const auto rows = truth->query(
                                "SELECT order_id, count(*), group_concat(biller, ', ') FROM "
                                "charges GROUP BY order_id HAVING count(*) > 1 ORDER BY "
                                "max(rowid) LIMIT 1");
                            if (rows.empty()) return std::nullopt;
                            const auto order = rows[0][0].get<std::string>();
                            return sim::Finding{"order " + order + " was charged " +
                                                    rows[0][1].dump() + " times (" +
                                                    rows[0][2].get<std::string>() + ")",
                                                {order}};
                          }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// Where a charge request took effect: the database's committed reply send, else the database's
// `lost_response` note for it (an annotation on the database naming the transaction's label,
// committed), or nullptr (it did not commit).
const TraceEvent* took_effect(const Trace& trace, const TraceEvent& request) {
  const std::string label = payload(request).value("label", "");
  if (const auto* reply = reply_send_for(trace, request)) {
    return payload(*reply).value("committed", false) ? reply : nullptr;
  }
  return find_first(
      trace,
      [&](const TraceEvent& e) {
        if (e.kind != EventKind::kAnnotation || e.lane != request.peer) return false;
        const std::string text = e.line.dump();
        return text.find("lost_response") != std::string::npos &&
               text.find("\"" + label + "\"") != std::string::npos &&
               text.find("\"committed\":true") != std::string::npos &&
               text.find("\"req\":" + std::to_string(payload(request).value("req", 0))) !=
                   std::string::npos;
      },
      request.seq);
}

// From the message: the order O. The biller's charge requests for O ("charge O"), in order; the
// first that took effect is the first charge, the next that took effect the second. Where the
// first's answer was lost: the database's note (when that is where it took effect), else the
// network's drop of the reply, else the biller's receive timeout after its request. The retry:
// the biller's next queue request after the first charge's request (the enqueue of the retry).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string order = between(violation_message(trace), "order ", " was charged");
  if (order.empty()) return {};
  const auto until = violation_event(trace);
  const auto requests = find_all(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kSend && e.type == "sql_request" &&
               payload(e).value("label", "") == "charge " + order;
      },
      until);
  const TraceEvent* first_req = nullptr;
  const TraceEvent* first = nullptr;
  const TraceEvent* second = nullptr;
  for (const auto* r : requests) {
    const auto* at = took_effect(trace, *r);
    if (!at || at->seq > until) continue;
    if (!first) {
      first_req = r;
      first = at;
    } else {
      second = at;
      break;
    }
  }
  if (!first || !second) return {};
  const TraceEvent* lost_at = nullptr;
  if (first->kind == EventKind::kAnnotation) {
    lost_at = first;
  } else {
    lost_at = find_first(
        trace,
        [&](const TraceEvent& e) {
          return e.kind == EventKind::kDrop && e.message == first->message;
        },
        first->seq);
    if (!lost_at) {
      lost_at = find_first(
          trace,
          [&](const TraceEvent& e) {
            return e.lane == first_req->lane && e.kind == EventKind::kTimer &&
                   e.line.value("timer", "") == "receive_timeout";
          },
          first_req->seq);
    }
  }
  const auto* retry = find_first(
      trace,
      [&](const TraceEvent& e) {
        return e.lane == first_req->lane && e.kind == EventKind::kSend && e.type == "queue_request";
      },
      first_req->seq);
  std::vector<std::uint64_t> keys = {first->seq};
  if (lost_at && lost_at != first) keys.push_back(lost_at->seq);
  if (retry) keys.push_back(retry->seq);
  keys.push_back(second->seq);
  return keys;
}

}  // namespace charge_requeue

Design make_charge_requeue() {
  Design d;
  d.name = "charge_requeue";
  d.bug =
      "a biller enqueues a retry of a charge that timed out, though the charge had committed; "
      "the retry charges the order again";
  d.system = std::make_unique<charge_requeue::System>();
  d.invariant = "order-charged-once";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kLostResponse};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"lost_response"};
  d.label.key_events = charge_requeue::key_events;
  return d;
}

}  // namespace seer::bench::explain
