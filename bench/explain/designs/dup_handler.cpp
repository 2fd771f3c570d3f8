// dup_handler: an order-fulfilment worker pool on an at-least-once queue.
//
// Spec. A shop enqueues orders {order, sku, qty} on a queue (at-least-once delivery, visibility
// timeout 100 ms). Two packers take orders from the queue and ship each: one transaction records
// the shipment (`shipments(order_id, sku, qty)`) and takes the items out of stock; the packer
// then prints the shipping label (slow) and acks the message.
// Invariant `shipped-once`: no order is shipped twice ("order ord-7 was shipped 2 times").
// Operations (history): `order` (the shop's enqueue).
//
// Bug (variant `buggy`): the handler is not idempotent. A packer that is slow to ack (a pause
// while printing) lets the visibility timeout expire and the queue hands the order to the other
// packer; with the `duplicate` fault the queue may also hand an order held by one packer to the
// other. Both ship it.
// Fix (variant `fixed`): the shipment transaction first inserts the order id into
// `processed(order_id PRIMARY KEY)`; a second delivery fails on the key and is only acked.
// Faults: delay, duplicate, pause (the packers may be paused; no crashes, drops or lost responses:
// the shop never has to retry an enqueue).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/queue.hpp"
#include "seer/services/sql.hpp"

namespace seer::bench::explain {

using seer::explain::EventKind;

namespace dup_handler {

constexpr int kPackers = 2;
constexpr int kSkus = 4;
constexpr sim::Duration kTimeout = sim::milliseconds(50);

sim::Task<void> shop(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId queue,
                     int orders) {
  services::QueueClient q(env, queue, kTimeout);
  for (int n = 1; n <= orders; ++n) {
    co_await env.sleep(sim::milliseconds(2) + static_cast<sim::Duration>(env.random() % 8'000'000));
    nlohmann::json body;
    body["order"] = "ord-" + std::to_string(n);
    body["sku"] = static_cast<int>(env.random() % kSkus) + 1;
    body["qty"] = static_cast<int>(env.random() % 3) + 1;
    history.invoke(0, "order", body["order"]);
    const auto r = co_await q.enqueue(body);
    history.complete(0, r.timed_out ? sim::OpType::kInfo : sim::OpType::kOk, "order",
                     body["order"]);
  }
  co_await env.sleep(sim::seconds(1));  // let the packers drain the queue
}

sim::Task<void> packer(sim::Env& env, sim::ProcessId queue, sim::ProcessId db, bool fixed) {
  services::QueueClient q(env, queue, kTimeout);
  services::SqlClient sql(env, db, kTimeout, nullptr, env.random());
  for (;;) {
    const auto got = co_await q.receive();
    if (got.timed_out) continue;
    if (!got.found) {
      co_await env.sleep(sim::milliseconds(4));
      continue;
    }
    const auto order = got.body.at("order").get<std::string>();
    std::vector<services::SqlStatement> ship;
    if (fixed) ship.push_back({"INSERT INTO processed (order_id) VALUES (?1)", {order}, 1});
    ship.push_back({"INSERT INTO shipments (order_id, sku, qty) VALUES (?1, ?2, ?3)",
                    {order, got.body["sku"], got.body["qty"]},
                    1});
    ship.push_back(
        {"UPDATE stock SET qty = qty - ?1 WHERE sku = ?2", {got.body["qty"], got.body["sku"]}, 1});
    const auto r = co_await sql.transact(ship, "ship " + order);
    if (r.timed_out) continue;  // not acked: the queue delivers it again
    if (r.committed) {
      // Print the shipping label.
      co_await env.sleep(sim::milliseconds(5) +
                         static_cast<sim::Duration>(env.random() % 10'000'000));
    }
    co_await q.ack(got.message_id);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"dup_handler",
            "a shop enqueues orders on an at-least-once queue; two packers ship them through SQL",
            {"buggy", "fixed"},
            {{"shipped-once", "no order is shipped twice"}},
            {{"queue", {"at-least-once"}}, {"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto queue = services::add_queue_service(sim, "queue");
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE shipments (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL, "
        "sku INTEGER NOT NULL, qty INTEGER NOT NULL)",
        "CREATE TABLE processed (order_id TEXT PRIMARY KEY)",
        "CREATE TABLE stock (sku INTEGER PRIMARY KEY, qty INTEGER NOT NULL)"};
    for (int s = 1; s <= kSkus; ++s) {
      config.schema.push_back("INSERT INTO stock VALUES (" + std::to_string(s) + ", 1000)");
    }
    const auto db = services::add_sql_service(sim, "db", config);
    for (int p = 0; p < sim.config().clients_or(kPackers); ++p) {
      sim.add_process("packer" + std::to_string(p + 1),
                      [q = queue.process, d = db.process, fixed](sim::Env& env) {
                        return packer(env, q, d, fixed);
                      },
                      {.crashable = true, .client = false});
    }
    auto& history = sim.history();
    const int orders = sim.config().ops;
    sim.add_process("shop",
                    [&history, q = queue.process, orders](sim::Env& env) {
                      return shop(env, history, q, orders);
                    },
                    {.crashable = false, .client = true});
    const auto truth = db.truth;
    auto checked = std::make_shared<std::size_t>(0);
    sim.add_invariant("shipped-once", [truth, checked]() -> std::optional<std::string> {
      if (*checked == truth->committed().size()) return std::nullopt;
      *checked = truth->committed().size();
      const auto rows = truth->query(
          "SELECT order_id, count(*) FROM shipments GROUP BY order_id HAVING count(*) > 1 "
          "ORDER BY min(id) LIMIT 1");
      if (rows.empty()) return std::nullopt;
      return "order " + rows[0][0].get<std::string>() + " was shipped " + rows[0][1].dump() +
             " times";
    });
  }
};

// Label. From the message: the order O. The cause: the first delivery of O's message to a packer,
// the second delivery (the redelivery or duplicate), and the second shipment's commit (the
// database's reply send) that the second delivery led to.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string order = between(violation_message(trace), "order ", " was shipped");
  if (order.empty()) return {};
  const auto deliveries = find_all(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kDeliver || e.type != "queue_reply") return false;
    const auto& body = payload(e).value("body", nlohmann::json());
    return body.is_object() && body.value("order", "") == order;
  });
  const auto commits = find_all(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
        !payload(e).value("committed", false)) {
      return false;
    }
    const auto* req = request_send_for(trace, e);
    return req && payload(*req).value("label", "") == "ship " + order;
  });
  if (deliveries.size() < 2 || commits.size() < 2) return {};
  // The delivery that led to the second commit: the last delivery of O to its packer before the
  // request of the second commit.
  const auto* second_req = request_send_for(trace, *commits[1]);
  const TraceEvent* second = nullptr;
  for (const auto* d : deliveries) {
    if (d->lane == second_req->lane && d->seq < second_req->seq) second = d;
  }
  const TraceEvent* first = nullptr;
  for (const auto* d : deliveries) {
    if (d != second) {
      first = d;
      break;
    }
  }
  if (!first || !second) return {};
  return {first->seq, second->seq, commits[1]->seq};
}

}  // namespace dup_handler

Design make_dup_handler() {
  Design d;
  d.name = "dup_handler";
  d.bug = "a non-idempotent order handler ships an order the queue delivered twice";
  d.system = std::make_unique<dup_handler::System>();
  d.invariant = "shipped-once";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kDuplicate, sim::FaultKind::kPause};
  d.ops = 40;
  d.label.kinds = {"duplicate_delivery"};
  d.label.key_events = dup_handler::key_events;
  return d;
}

}  // namespace seer::bench::explain
