// outbox_relay: a transactional outbox whose relay publishes a row again after a crash.
//
// Spec. A shop (`shop`, a client) places orders (`o-1`, `o-2`, ...): one SQL transaction inserts
// the order and a row in the outbox (`outbox(id, order_id, sent = 0)`), so an order is never
// placed without its event. A relay (`relay`) polls the outbox for unsent rows (up to four, in id
// order), publishes each as an `order_placed` event on the at-least-once queue, and then marks the
// published rows sent in one transaction. A shipper (`shipper`) consumes the events: it records a
// shipment (`shipments(order_id, outbox_id)`) and acks.
// Invariant `order-shipped-once`: no order is shipped twice ("order o-12 was shipped 2 times").
// Operations (history): `place` per order by the shop.
//
// The relay asks for the mark again until it commits (it is idempotent), so a database crash
// only delays it.
//
// Bug (variant `buggy`): publishing and marking are two steps with nothing durable between them.
// When the relay crashes after a publish was sent and before its mark committed, the row is
// still unsent; the restarted relay publishes it again and the shipper ships the order twice.
// The shipper trusts the relay to publish each row once.
// Fix (variant `fixed`): the shipper is idempotent: the outbox id is the shipments' primary key,
// written in the same transaction as the shipment; a second event for a row fails on the key,
// rolls back, and is only acked.
// Faults: delay, crash (the relay and the database crash; the queue and the shipper do not).
//
// Label. `crash_lost_data`, the closest documented kind: the crash took the relay's only record
// that the row was published (it was in memory, the mark not yet durable), so the relay acted on a
// "not sent" that was no longer true. Key events: the first publish's effect (the queue's reply
// to the enqueue), the relay's crash after the first publish was sent and before the republish,
// and the republish (the relay's second enqueue of the row).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/queue.hpp"
#include "seer/services/sql.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace seer::bench::explain {

namespace outbox_relay {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr sim::Duration kQueueTimeout = sim::milliseconds(200);
constexpr sim::Duration kSqlTimeout = sim::milliseconds(150);
constexpr int kBatch = 4;

sim::Task<void> shop(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId db, int orders) {
  services::SqlClient sql(env, db, kSqlTimeout);
  for (int n = 1; n <= orders; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 4'000'000));
    const std::string order = "o-" + std::to_string(n);
    history.invoke(0, "place", order);
    const std::vector<services::SqlStatement> place = {
        {"INSERT INTO orders (id, item) VALUES (?1, ?2)",
         {order, "sku-" + std::to_string(env.random() % 9 + 1)},
         1},
        {"INSERT INTO outbox (order_id, sent) VALUES (?1, 0)", {order}, 1}};
    const auto r = co_await sql.transact(place, "place " + order);
    history.complete(0,
                     r.timed_out   ? sim::OpType::kInfo
                     : r.committed ? sim::OpType::kOk
                                   : sim::OpType::kFail,
                     "place", order);
  }
  co_await env.sleep(sim::milliseconds(800));  // let the relay and the shipper drain the outbox
}

sim::Task<void> relay(sim::Env& env, sim::ProcessId db, sim::ProcessId queue) {
  // A new life starts its request numbers afresh, so a late reply to the last life is not taken.
  services::SqlClient sql(env, db, kSqlTimeout, nullptr, env.random());
  services::QueueClient q(env, queue, kQueueTimeout, nullptr, env.random());
  for (;;) {
    const std::vector<services::SqlStatement> poll = {
        {"SELECT id, order_id FROM outbox WHERE sent = 0 ORDER BY id LIMIT ?1",
         {kBatch},
         std::nullopt}};
    const auto unsent = co_await sql.transact(poll, "poll outbox");
    if (unsent.timed_out || !unsent.committed || unsent.results[0].empty()) {
      co_await env.sleep(sim::milliseconds(2));
      continue;
    }
    std::vector<std::int64_t> published;
    for (const auto& row : unsent.results[0]) {
      const auto id = row[0].get<std::int64_t>();
      const auto order = row[1].get<std::string>();
      const nlohmann::json event = {{"event", "order_placed"}, {"outbox_id", id}, {"order", order}};
      const auto r = co_await q.enqueue(event);
      if (r.timed_out) break;  // unknown: left unsent, published again next round
      published.push_back(id);
    }
    if (published.empty()) continue;
    std::string ids;
    for (const auto id : published) ids += (ids.empty() ? "" : ",") + std::to_string(id);
    const std::vector<services::SqlStatement> mark = {
        {"UPDATE outbox SET sent = 1 WHERE id IN (" + ids + ")", nlohmann::json::array(),
         std::nullopt}};
    // Marking is idempotent: asked again until it commits (the database may be down a while).
    for (;;) {
      const auto r = co_await sql.transact(mark, "mark sent " + ids);
      if (!r.timed_out && r.committed) break;
    }
  }
}

sim::Task<void> shipper(sim::Env& env, sim::ProcessId queue, sim::ProcessId db) {
  services::QueueClient q(env, queue, kQueueTimeout);
  services::SqlClient sql(env, db, kSqlTimeout);
  for (;;) {
    const auto got = co_await q.receive();
    if (got.timed_out) continue;
    if (!got.found) {
      co_await env.sleep(sim::milliseconds(3));
      continue;
    }
    const auto order = got.body.at("order").get<std::string>();
    const auto id = got.body.at("outbox_id").get<std::int64_t>();
    const std::vector<services::SqlStatement> ship = {
        {"INSERT INTO shipments (outbox_id, order_id) VALUES (?1, ?2)", {id, order}, 1}};
    const auto r = co_await sql.transact(ship, "ship " + order);
    if (r.timed_out) continue;  // not acked: the queue hands it out again
    // Committed, or (fixed) refused by the key because the row was shipped: done either way.
    co_await q.ack(got.message_id);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {
        "outbox_relay",
        "a relay publishes a transactional outbox's rows to a queue; a shipper ships each order",
        {"buggy", "fixed"},
        {{"order-shipped-once", "no order is shipped twice"}},
        {{"queue", {"at-least-once"}}, {"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE orders (id TEXT PRIMARY KEY, item TEXT NOT NULL)",
        "CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL, "
        "sent INTEGER NOT NULL)",
        fixed ? "CREATE TABLE shipments (outbox_id INTEGER PRIMARY KEY, order_id TEXT NOT NULL)"
              : "CREATE TABLE shipments (id INTEGER PRIMARY KEY AUTOINCREMENT, outbox_id INTEGER "
                "NOT NULL, order_id TEXT NOT NULL)"};
    const auto db = services::add_sql_service(sim, "db", config);
    const auto queue = services::add_queue_service(sim, "queue");
    sim.add_process("relay",
                    [d = db.process, q = queue.process](sim::Env& env) { return relay(env, d, q); },
                    {.crashable = true, .client = false});
    sim.add_process(
        "shipper",
        [d = db.process, q = queue.process](sim::Env& env) { return shipper(env, q, d); },
        {.crashable = false, .client = false});
    auto& history = sim.history();
    const int orders = sim.config().ops;
    sim.add_process(
        "shop",
        [&history, d = db.process, orders](sim::Env& env) { return shop(env, history, d, orders); },
        {.crashable = false, .client = true});
    sim.add_invariant(
        "order-shipped-once",
        sim::when_changed([truth = db.truth] { return truth->committed().size(); },
                          [truth = db.truth]() -> std::optional<sim::Finding> {
                            const auto rows = truth->query(
                                "SELECT order_id, count(*) FROM shipments GROUP BY order_id "
                                "HAVING count(*) > 1 LIMIT 1");
                            if (rows.empty()) return std::nullopt;
                            const auto order = rows[0][0].get<std::string>();
                            return sim::Finding{
                                "order " + order + " was shipped " + rows[0][1].dump() + " times",
                                {order}};
                          }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the order O. The relay's enqueues carrying O (sends of queue_request with
// body.order O): the first and the second (the republish); the queue's reply to the first (where
// it took effect); the relay's first crash between the first enqueue's send and the republish.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string order = between(violation_message(trace), "order ", " was shipped");
  if (order.empty()) return {};
  const auto enqueues = find_all(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kSend || e.type != "queue_request" ||
        process_of(trace, e) != "relay") {
      return false;
    }
    const auto& body = payload(e).value("body", nlohmann::json());
    return body.is_object() && body.value("order", "") == order;
  });
  if (enqueues.size() < 2) return {};
  const auto* first = enqueues[0];
  const auto* again = enqueues[1];
  const auto* effect = reply_send_for(trace, *first);
  const auto* crash = find_first(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kCrash && process_of(trace, e) == "relay" && e.seq < again->seq;
      },
      first->seq);
  std::vector<std::uint64_t> keys;
  if (effect && effect->seq < again->seq) keys.push_back(effect->seq);
  if (crash) keys.push_back(crash->seq);
  keys.push_back(again->seq);
  return keys;
}

}  // namespace outbox_relay

Design make_outbox_relay() {
  Design d;
  d.name = "outbox_relay";
  d.bug =
      "an outbox relay that crashes between publishing a row and marking it sent publishes it "
      "again, and the order ships twice";
  d.system = std::make_unique<outbox_relay::System>();
  d.invariant = "order-shipped-once";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kCrash};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"crash_lost_data"};
  d.label.key_events = outbox_relay::key_events;
  return d;
}

}  // namespace seer::bench::explain
