// reservations: a shop reserving stock for orders, with a check before the reservation.
//
// Spec. A shop's database holds stock per product (`stock(sku, available)`), reservations
// (`reservations(order_id, sku, qty)`), customers with loyalty points (`customers(id, points)`)
// and prices (`prices(sku, cents)`). Three checkout servers reserve items for orders: each reads
// the product's stock and the customer's points in one transaction (the points decide the
// shipping offer), and if enough is available, reserves in a second transaction: it inserts the
// reservation, takes the quantity out of stock and credits the customer a point. A merchandiser
// restocks products now and then and changes prices.
// Invariant `no-oversell`: stock never goes below zero ("sku-2 oversold: available -1 after
// order o3-5's reservation").
// Operations (history): `reserve` per order, `restock` and `reprice` by the merchandiser.
//
// Bug (variant `buggy`): check-then-act across two transactions: two checkouts read the last
// units of a product, both decide there is enough, both reserve.
// Fix (variant `fixed`): the reservation's stock update is guarded in the same statement
// (`... WHERE sku = ? AND available >= qty`, expected to change one row); when it changes none,
// the transaction rolls back and the order is told the product sold out.
// Faults: delay, reorder.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/sql.hpp"

namespace seer::bench::explain {

using seer::explain::EventKind;

namespace reservations {

constexpr int kCheckouts = 3;
constexpr int kSkus = 3;
constexpr int kCustomers = 6;
constexpr sim::Duration kTimeout = sim::milliseconds(200);

sim::Task<void> checkout(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId db,
                         bool fixed, int id, int orders) {
  services::SqlClient sql(env, db, kTimeout, nullptr, env.random());
  for (int n = 1; n <= orders; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 5'000'000));
    const std::string order = "o" + std::to_string(id) + "-" + std::to_string(n);
    const std::string sku = "sku-" + std::to_string(env.random() % kSkus + 1);
    const std::string customer = "c" + std::to_string(env.random() % kCustomers + 1);
    const std::int64_t qty = static_cast<std::int64_t>(env.random() % 2) + 1;
    history.invoke(id, "reserve", nlohmann::json::array({order, sku, qty}));
    const std::vector<services::SqlStatement> tx_check = {
        {"SELECT available FROM stock WHERE sku = ?1", {sku}, std::nullopt},
        {"SELECT points FROM customers WHERE id = ?1", {customer}, std::nullopt}};
    const auto check = co_await sql.transact(tx_check, "check " + sku + " for " + order);
    if (check.timed_out || !check.committed) {
      history.complete(id, sim::OpType::kFail, "reserve", order, "check failed");
      continue;
    }
    const auto available = check.results[0][0][0].get<std::int64_t>();
    if (available < qty) {
      history.complete(id, sim::OpType::kFail, "reserve", order, "sold out");
      continue;
    }
    // Shipping offer from the points (computing it takes a moment).
    co_await env.sleep(static_cast<sim::Duration>(env.random() % 2'000'000));
    std::vector<services::SqlStatement> reserve;
    if (fixed) {
      reserve.push_back(
          {"UPDATE stock SET available = available - ?1 WHERE sku = ?2 AND "
           "available >= ?1",
           {qty, sku},
           1});
    } else {
      reserve.push_back(
          {"UPDATE stock SET available = available - ?1 WHERE sku = ?2", {qty, sku}, 1});
    }
    reserve.push_back({"INSERT INTO reservations (order_id, sku, qty) VALUES (?1, ?2, ?3)",
                       {order, sku, qty},
                       1});
    reserve.push_back({"UPDATE customers SET points = points + 1 WHERE id = ?1", {customer}, 1});
    const auto r = co_await sql.transact(reserve, "reserve " + order);
    history.complete(
        id,
        r.timed_out ? sim::OpType::kInfo : (r.committed ? sim::OpType::kOk : sim::OpType::kFail),
        "reserve", order, std::string(r.timed_out ? "timeout" : (r.committed ? "" : "sold out")));
  }
}

sim::Task<void> merchandiser(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId db,
                             int rounds) {
  services::SqlClient sql(env, db, kTimeout, nullptr, env.random());
  const int me = kCheckouts + 1;
  for (int n = 0; n < rounds; ++n) {
    co_await env.sleep(sim::milliseconds(6) + static_cast<sim::Duration>(env.random() % 8'000'000));
    const std::string sku = "sku-" + std::to_string(env.random() % kSkus + 1);
    if (n % 2 == 0) {
      history.invoke(me, "restock", sku);
      const std::vector<services::SqlStatement> tx_r = {
          {"UPDATE stock SET available = available + 2 WHERE sku = ?1", {sku}, 1}};
      const auto r = co_await sql.transact(tx_r, "restock " + sku);
      history.complete(me, r.committed ? sim::OpType::kOk : sim::OpType::kInfo, "restock", sku);
    } else {
      const std::int64_t cents = 100 + static_cast<std::int64_t>(env.random() % 900);
      history.invoke(me, "reprice", sku);
      const std::vector<services::SqlStatement> tx_r = {
          {"UPDATE prices SET cents = ?1 WHERE sku = ?2", {cents, sku}, 1}};
      const auto r = co_await sql.transact(tx_r, "reprice " + sku);
      history.complete(me, r.committed ? sim::OpType::kOk : sim::OpType::kInfo, "reprice", sku);
    }
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"reservations",
            "checkout servers reserve stock for orders after checking it in SQL",
            {"buggy", "fixed"},
            {{"no-oversell", "stock never goes below zero"}},
            {{"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE stock (sku TEXT PRIMARY KEY, available INTEGER NOT NULL)",
        "CREATE TABLE reservations (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL, "
        "sku TEXT NOT NULL, qty INTEGER NOT NULL)",
        "CREATE TABLE customers (id TEXT PRIMARY KEY, points INTEGER NOT NULL)",
        "CREATE TABLE prices (sku TEXT PRIMARY KEY, cents INTEGER NOT NULL)"};
    for (int s = 1; s <= kSkus; ++s) {
      config.schema.push_back("INSERT INTO stock VALUES ('sku-" + std::to_string(s) + "', 4)");
      config.schema.push_back("INSERT INTO prices VALUES ('sku-" + std::to_string(s) + "', 500)");
    }
    for (int c = 1; c <= kCustomers; ++c) {
      config.schema.push_back("INSERT INTO customers VALUES ('c" + std::to_string(c) + "', 0)");
    }
    const auto db = services::add_sql_service(sim, "db", config);
    auto& history = sim.history();
    const int checkouts = sim.config().clients_or(kCheckouts);
    for (int c = 1; c <= checkouts; ++c) {
      const int share = sim.config().ops / checkouts + (c <= sim.config().ops % checkouts ? 1 : 0);
      sim.add_process("checkout" + std::to_string(c),
                      [&history, d = db.process, fixed, c, share](sim::Env& env) {
                        return checkout(env, history, d, fixed, c, share);
                      },
                      {.crashable = false, .client = true});
    }
    const int rounds = sim.config().ops / 4;
    sim.add_process("merchandiser",
                    [&history, d = db.process, rounds](sim::Env& env) {
                      return merchandiser(env, history, d, rounds);
                    },
                    {.crashable = false, .client = true});
    const auto truth = db.truth;
    auto checked = std::make_shared<std::size_t>(0);
    sim.add_invariant("no-oversell", [truth, checked]() -> std::optional<std::string> {
      if (*checked == truth->committed().size()) return std::nullopt;
      *checked = truth->committed().size();
      const auto rows =
          truth->query("SELECT sku, available FROM stock WHERE available < 0 ORDER BY sku LIMIT 1");
      if (rows.empty()) return std::nullopt;
      const auto sku = rows[0][0].get<std::string>();
      const auto last = truth->query(services::SqlStatement{
          "SELECT order_id FROM reservations WHERE sku = ?1 ORDER BY id DESC LIMIT 1",
          {sku},
          std::nullopt});
      return sku + " oversold: available " + rows[0][1].dump() + " after order " +
             (last.empty() ? std::string("?") : last[0][0].get<std::string>()) + "'s reservation";
    });
  }
};

// Label. From the message: the product S and the order O whose reservation took S below zero.
// The cause: O's checkout's stock read (the delivery of its "check S for O" reply: what it
// decided on), the other reservation of S that committed after that read was served and before
// O's reservation (the latest such: what outdated the read), and O's reservation's commit (the
// decision taking effect).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string sku = between(msg, "", " oversold: ");
  const std::string order = between(msg, " after order ", "'s reservation");
  if (sku.empty() || order.empty()) return {};
  auto committed_reply = [&](const std::string& label) {
    return [&trace, label](const TraceEvent& e) {
      if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
          !payload(e).value("committed", false)) {
        return false;
      }
      const auto* req = request_send_for(trace, e);
      return req && payload(*req).value("label", "") == label;
    };
  };
  const auto* decision = find_first(trace, committed_reply("reserve " + order));
  const auto* read_served = find_first(trace, committed_reply("check " + sku + " for " + order));
  if (!decision || !read_served) return {};
  const auto* read = delivery_of(trace, *read_served);
  if (!read) return {};
  // Reservations of S committed between the read's commit and the decision.
  const auto* overtaking = find_last(
      trace,
      [&](const TraceEvent& e) {
        if (e.seq <= read_served->seq || e.kind != EventKind::kSend || e.type != "sql_reply" ||
            !payload(e).value("committed", false)) {
          return false;
        }
        const auto* req = request_send_for(trace, e);
        if (!req) return false;
        const auto& p = payload(*req);
        if (p.value("label", "").rfind("reserve ", 0) != 0) return false;
        const auto& statements = p.value("statements", nlohmann::json::array());
        for (const auto& s : statements) {
          const auto& params = s.value("params", nlohmann::json::array());
          for (const auto& v : params) {
            if (v == sku) return true;
          }
        }
        return false;
      },
      decision->seq);
  if (!overtaking) return {};
  return {read->seq, overtaking->seq, decision->seq};
}

}  // namespace reservations

Design make_reservations() {
  Design d;
  d.name = "reservations";
  d.bug =
      "a checkout reserves the last units of a product on a stock read that another reservation "
      "outdated";
  d.system = std::make_unique<reservations::System>();
  d.invariant = "no-oversell";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder};
  d.ops = 45;
  d.held_out = true;
  d.label.kinds = {"outdated_read"};
  d.label.key_events = reservations::key_events;
  return d;
}

}  // namespace seer::bench::explain
