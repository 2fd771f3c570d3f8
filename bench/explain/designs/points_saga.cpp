// points_saga: a purchase saga that compensates a step whose answer did not come.
//
// Spec. A shop (`shop`, the design's own process) takes purchases (`o-1`, `o-2`, ...) for five
// customers. A purchase is a saga of two steps over two services: the order is recorded in SQL
// (`orders(order_id, customer, amount)`), then the customer's loyalty points for it are credited
// in the KV store (`points/o-N`, created: `{customer, points}`). When a step fails the saga
// compensates the steps already done, so that a failed purchase leaves nothing behind: a failed
// credit deletes the order (`DELETE FROM orders WHERE order_id = ?`), and the purchase is reported
// failed. The loyalty programme pays out `points/*` entries, and audits them against `orders`.
// Invariant `points-have-order`: every points credit is for an existing order ("points credited
// for order o-7 (customer c-2), but order o-7 does not exist").
// Operations (history): `purchase` per order by the shop.
//
// Bug (variant `buggy`): a credit whose answer did not come within 20 ms is taken as failed and
// compensated. But the KV store may have applied it and lost its answer (the `lost-response`
// fault): the order is deleted while the points stay.
// Fix (variant `fixed`): the credit is a create of a key named by the order, so it can be sent
// again: on a timeout the shop retries it until it is answered, and a conflict (the key is
// there) means the first attempt had applied. Only a refused credit would be compensated.
// Faults: delay, lost-response.
//
// Label. `lost_response`: the credit took effect (the KV store's note of the lost answer for
// `points/o-N`, else its reply send), the shop's receive timeout on it, and the compensation (the
// database's reply send for the order's delete).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"
#include "seer/services/kv_client.hpp"
#include "seer/services/sql.hpp"

namespace seer::bench::explain {

namespace points_saga {

using seer::explain::EventKind;

constexpr int kCustomers = 5;
constexpr sim::Duration kKvTimeout = sim::milliseconds(20);
constexpr sim::Duration kSqlTimeout = sim::milliseconds(200);

sim::Task<void> shop(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId kv_id,
                     sim::ProcessId db, int purchases, bool fixed) {
  // One process, two clients: their request numbers must not meet.
  services::KvClient kv(env, kv_id, kKvTimeout, nullptr, 1);
  services::SqlClient sql(env, db, kSqlTimeout, nullptr, 1'000'000);
  for (int n = 1; n <= purchases; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 4'000'000));
    const std::string order = "o-" + std::to_string(n);
    const std::string customer = "c-" + std::to_string(env.random() % kCustomers + 1);
    const auto amount = static_cast<std::int64_t>(env.random() % 90) + 10;
    history.invoke(0, "purchase", order);
    const std::vector<services::SqlStatement> record = {
        {"INSERT INTO orders (order_id, customer, amount) VALUES (?1, ?2, ?3)",
         {order, customer, amount},
         1}};
    const auto r = co_await sql.transact(record, "order " + order);
    if (r.timed_out || !r.committed) {
      history.complete(0, r.timed_out ? sim::OpType::kInfo : sim::OpType::kFail, "purchase", order,
                       "order not recorded");
      continue;
    }
    nlohmann::json credit = nlohmann::json::object();
    credit["customer"] = customer;
    credit["points"] = amount / 10;
    auto c = co_await kv.create("points/" + order, credit);
    if (fixed) {
      // The create names the order: sending it again is safe, and a conflict says it applied.
      while (c.timed_out) c = co_await kv.create("points/" + order, credit);
    }
    if (!c.timed_out) {
      history.complete(0, sim::OpType::kOk, "purchase", order);
      continue;
    }
    // The credit failed: compensate the order, so the failed purchase leaves nothing behind.
    const std::vector<services::SqlStatement> undo = {
        {"DELETE FROM orders WHERE order_id = ?1", {order}, std::nullopt}};
    for (int attempt = 0; attempt < 20; ++attempt) {
      const auto u = co_await sql.transact(undo, "compensate " + order);
      if (!u.timed_out && u.committed) break;
    }
    history.complete(0, sim::OpType::kFail, "purchase", order, "points not credited");
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"points_saga",
            "a purchase saga records the order in SQL and credits loyalty points in KV, "
            "compensating the order when the credit fails",
            {"buggy", "fixed"},
            {{"points-have-order", "every points credit is for an existing order"}},
            {{"sql", {"sqlite"}}, {"kv", {"linearizable"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE orders (order_id TEXT PRIMARY KEY, customer TEXT NOT NULL, "
        "amount INTEGER NOT NULL)"};
    const auto db = services::add_sql_service(sim, "db", config);
    const auto kv = services::add_kv_service(sim, "kv", services::KvConfig{});
    auto& history = sim.history();
    const int purchases = sim.config().ops;
    sim.add_process("shop",
                    [&history, k = kv.process, d = db.process, purchases, fixed](sim::Env& env) {
                      return shop(env, history, k, d, purchases, fixed);
                    },
                    {.crashable = false, .client = true});
    auto store = kv.truth;
    auto truth = db.truth;
    sim.add_invariant(
        "points-have-order",
        sim::when_changed(
            [store, truth] {
              return static_cast<std::uint64_t>(store->revision()) * 1'000'003u +
                     truth->committed().size();
            },
            [store, truth]() -> std::optional<sim::Finding> {
              for (const auto& key : store->keys_at(store->revision(), "points/")) {
                const std::string order = key.substr(std::string("points/").size());
                const auto rows = truth->query(services::SqlStatement{
                    "SELECT count(*) FROM orders WHERE order_id = ?1", {order}, std::nullopt});
                if (!rows.empty() && rows[0][0].get<std::int64_t>() > 0) continue;
                const auto& v = store->latest(key);
                const std::string customer = v.encoded().value("customer", "?");
                return sim::Finding{"points credited for order " + order + " (customer " +
                                        customer + "), but order " + order + " does not exist",
                                    {order, key}};
              }
              return std::nullopt;
            }));
  }
};

// Label. From the message: the order O. The credit's request (the shop's `kv_request` create of
// `points/O`, the first one), where it took effect (its `kv_reply` send, else the KV store's
// `lost_response` note for the key), the shop's receive timeout after the request, and the
// compensation's commit (the database's reply send for "compensate O" that committed, or its
// `lost_response` note for that transaction when that answer was lost too).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string order = between(violation_message(trace), "points credited for order ", " (");
  if (order.empty()) return {};
  const std::string key = "points/" + order;
  const auto* req = find_first(trace, [&](const TraceEvent& e) {
    return e.kind == EventKind::kSend && e.type == "kv_request" && process_of(trace, e) == "shop" &&
           payload(e).value("key", "") == key;
  });
  if (!req) return {};
  std::vector<std::uint64_t> keys;
  // Where the credit took effect: the store's reply send (even if dropped or late), else its note
  // of the answer it lost.
  const auto* effect = reply_send_for(trace, *req);
  if (!effect) {
    effect = find_first(
        trace,
        [&](const TraceEvent& e) {
          if (e.kind != EventKind::kAnnotation || process_of(trace, e) != "kv" ||
              e.line.value("what", "") != "lost_response") {
            return false;
          }
          const auto& facts = e.oracle();
          return facts.is_object() && facts.value("key", "") == key;
        },
        req->seq);
  }
  if (effect) keys.push_back(effect->seq);
  const auto* timeout = find_first(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kTimer && process_of(trace, e) == "shop" &&
               e.line.value("timer", "") == "receive_timeout";
      },
      req->seq);
  if (timeout) keys.push_back(timeout->seq);
  // The compensation took effect at the database's reply send, or, its answer lost too, at the
  // database's note of the lost answer (its facts name the transaction's label).
  const auto* undo = find_first(trace, [&](const TraceEvent& e) {
    if (e.kind == EventKind::kAnnotation && process_of(trace, e) == "db" &&
        e.line.value("what", "") == "lost_response") {
      const auto& facts = e.oracle();
      return facts.is_object() && facts.value("committed", false) &&
             facts.value("label", "") == "compensate " + order;
    }
    if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
        !payload(e).value("committed", false)) {
      return false;
    }
    const auto* r = request_send_for(trace, e);
    return r && payload(*r).value("label", "") == "compensate " + order;
  });
  if (undo) keys.push_back(undo->seq);
  if (!effect || !timeout || !undo) return {};
  return keys;
}

}  // namespace points_saga

Design make_points_saga() {
  Design d;
  d.name = "points_saga";
  d.bug =
      "a purchase saga compensates (deletes) the order when the points credit's answer is lost, "
      "though the credit applied";
  d.system = std::make_unique<points_saga::System>();
  d.invariant = "points-have-order";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kLostResponse};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"lost_response"};
  d.label.key_events = points_saga::key_events;
  return d;
}

}  // namespace seer::bench::explain
