// prefetch_batch: packers that take several orders off the queue at once and work through them.
//
// Spec. A shop (`shop`) enqueues each paid order on the at-least-once queue ({order}); two packers
// (`packer1`, `packer2`) ship them: a shipment is one SQL transaction (`shipments(order_id,
// packer)`), then the label is printed (20 to 30 ms), then the message is acked. The queue hides a
// message it handed out for its visibility timeout (100 ms) and hands it out again if it was not
// acked by then.
// Invariant `order-shipped-once`: no order is shipped twice ("order o-12 was shipped 2 times
// (packer1, packer2)").
// Operations (history): `order` (the shop's enqueue).
//
// Bug (variant `buggy`): to save round trips a packer takes up to five messages off the queue
// before it starts (a prefetch, like SQS's MaxNumberOfMessages) and then works through them one by
// one. The visibility timeout runs from the hand-out, so the last orders of a batch wait in the
// packer's own buffer past it: the queue hands them to the other packer (or to the same one, on
// its next batch), and the order ships twice.
// Fix (variant `fixed`): a packer takes one message, ships it, acks it, then takes the next, so
// no message waits in a buffer (a shipment and its label take well under the timeout).
// Faults: delay.
//
// Label. `duplicate_delivery`: the two deliveries of the order's message (the queue's replies that
// handed it out, as the packers took them in), and the second shipment's commit (the database's
// reply send).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/queue.hpp"
#include "seer/services/sql.hpp"

#include <deque>
#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace prefetch_batch {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kPackers = 2;
constexpr int kPrefetch = 5;
constexpr sim::Duration kQueueTimeout = sim::milliseconds(30);
constexpr sim::Duration kSqlTimeout = sim::milliseconds(60);

sim::Task<void> shop(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId queue,
                     int orders) {
  services::QueueClient q(env, queue, kQueueTimeout);
  for (int n = 1; n <= orders; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 3'000'000));
    const std::string order = "o-" + std::to_string(n);
    const nlohmann::json body = {{"order", order}};
    history.invoke(0, "order", order);
    const auto r = co_await q.enqueue(body);
    history.complete(0, r.timed_out ? sim::OpType::kInfo : sim::OpType::kOk, "order", order);
  }
  co_await env.sleep(sim::milliseconds(900));  // let the packers drain the queue
}

// Ships one order and prints its label; the caller acks.
sim::Task<void> ship(sim::Env& env, services::SqlClient& sql, const std::string& order,
                     const std::string& me) {
  const std::vector<services::SqlStatement> shipment = {
      {"INSERT INTO shipments (order_id, packer) VALUES (?1, ?2)", {order, me}, 1}};
  co_await sql.transact(shipment, "ship " + order);
  co_await env.sleep(sim::milliseconds(20) + static_cast<sim::Duration>(env.random() % 10'000'000));
}

sim::Task<void> packer(sim::Env& env, sim::ProcessId queue, sim::ProcessId db, bool fixed) {
  services::QueueClient q(env, queue, kQueueTimeout);
  services::SqlClient sql(env, db, kSqlTimeout);
  const std::string me = env.name_of(env.self());
  const int batch = fixed ? 1 : kPrefetch;
  for (;;) {
    std::deque<services::QueueResult> taken;
    while (static_cast<int>(taken.size()) < batch) {
      auto got = co_await q.receive();
      if (got.timed_out || !got.found) break;
      taken.push_back(std::move(got));
    }
    if (taken.empty()) {
      co_await env.sleep(sim::milliseconds(5));
      continue;
    }
    for (const auto& m : taken) {
      co_await ship(env, sql, m.body.at("order").get<std::string>(), me);
      co_await q.ack(m.message_id);
    }
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"prefetch_batch",
            "two packers take orders off an at-least-once queue in batches and ship them",
            {"buggy", "fixed"},
            {{"order-shipped-once", "no order is shipped twice"}},
            {{"queue", {"at-least-once"}}, {"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto queue = services::add_queue_service(sim, "queue");
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE shipments (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL, "
        "packer TEXT NOT NULL)"};
    const auto db = services::add_sql_service(sim, "db", config);
    for (int p = 1; p <= kPackers; ++p) {
      sim.add_process("packer" + std::to_string(p),
                      [q = queue.process, d = db.process, fixed](sim::Env& env) {
                        return packer(env, q, d, fixed);
                      },
                      {.crashable = false, .client = false, .pausable = false});
    }
    auto& history = sim.history();
    const int orders = sim.config().ops;
    sim.add_process("shop",
                    [&history, q = queue.process, orders](sim::Env& env) {
                      return shop(env, history, q, orders);
                    },
                    {.crashable = false, .client = true});
    sim.add_invariant(
        "order-shipped-once",
        sim::when_changed([truth = db.truth] { return truth->committed().size(); },
                          [truth = db.truth]() -> std::optional<sim::Finding> {
                            const auto rows = truth->query(
                                "SELECT order_id, count(*), group_concat(packer, ', ') FROM "
                                "shipments GROUP BY order_id HAVING count(*) > 1 ORDER BY max(id) "
                                "LIMIT 1");
                            if (rows.empty()) return std::nullopt;
                            const auto order = rows[0][0].get<std::string>();
                            return sim::Finding{"order " + order + " was shipped " +
                                                    rows[0][1].dump() + " times (" +
                                                    rows[0][2].get<std::string>() + ")",
                                                {order}};
                          }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the order O. Its shipments' commits (the database's committed reply sends for
// "ship O"): the second is the duplicate. The deliveries of O's message: the queue's replies
// carrying O's body, as a packer took them in; the first is the original hand-out, the last one
// before the second shipment's request (to the packer that sent it) is the one it shipped from.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string order = between(violation_message(trace), "order ", " was shipped ");
  if (order.empty()) return {};
  const auto commits = find_all(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
        !payload(e).value("committed", false)) {
      return false;
    }
    const auto* req = request_send_for(trace, e);
    return req && payload(*req).value("label", "") == "ship " + order;
  });
  if (commits.size() < 2) return {};
  const auto* second_req = request_send_for(trace, *commits[1]);
  if (!second_req) return {};
  const auto deliveries = find_all(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kDeliver || e.type != "queue_reply") return false;
    const auto& body = payload(e).value("body", nlohmann::json());
    return body.is_object() && body.value("order", "") == order;
  });
  if (deliveries.size() < 2) return {};
  const TraceEvent* second = nullptr;
  for (const auto* d : deliveries) {
    if (d->seq < second_req->seq && d->lane == second_req->lane && d != deliveries.front()) {
      second = d;
    }
  }
  if (!second) return {};
  return {deliveries.front()->seq, second->seq, commits[1]->seq};
}

}  // namespace prefetch_batch

Design make_prefetch_batch() {
  Design d;
  d.name = "prefetch_batch";
  d.bug =
      "packers take five orders off the queue before working through them: the last of a batch "
      "waits in the packer's buffer past the visibility timeout and is shipped again by the other "
      "packer";
  d.system = std::make_unique<prefetch_batch::System>();
  d.invariant = "order-shipped-once";
  d.faults = {sim::FaultKind::kDelay};
  d.ops = 40;
  d.held_out = true;
  d.label.kinds = {"duplicate_delivery"};
  d.label.key_events = prefetch_batch::key_events;
  return d;
}

}  // namespace seer::bench::explain
