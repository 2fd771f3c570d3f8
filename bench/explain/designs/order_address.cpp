// order_address: orders carry a copy of the customer's shipping address.
//
// Spec. A shop keeps customers and orders in one SQL database: `customers(id, address)` and
// `orders(id, customer, address)`, the order's shipping address copied from the customer's
// profile when the order is placed (denormalized: the warehouse ships to `orders.address`, and a
// later change of the profile must not move an order already placed). Customers move: a profile
// service (`profiles`) changes a random customer's address every 2-6 ms (`UPDATE customers SET
// address = ...`, addresses named `c-2/a5`). Two checkout servers (`checkout1`, `checkout2`)
// place orders: read the customer's profile, take the payment (2-5 ms), then insert the order
// with the address read.
// Invariant `ships-to-current-address`: when an order is placed (its insert commits), its
// address is the customer's address at that moment ("order o-2-7 ships to c-3/a2, but customer
// c-3 had moved to c-3/a3 before it was placed").
// Operations (history): `move` per address change, `checkout` per order.
//
// Bug (variant `buggy`): the profile read and the order's insert are two transactions: an
// address change that commits between them is missed, and the order is placed with the address
// the customer had already replaced.
// Fix (variant `fixed`): the insert copies the address inside its own transaction
// (`INSERT INTO orders ... SELECT address FROM customers WHERE id = ?`).
// Faults: delay.
//
// Label: `stale_derived_write` or `outdated_read`: the checkout's profile read (the reply's
// delivery), the address change that overtook it (the database's reply send for the move, the
// last one of the customer's committed before the order), the order's insert (the database's
// reply send).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/sql.hpp"

#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace order_address {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kCustomers = 3;
constexpr int kCheckouts = 2;
constexpr sim::Duration kSqlTimeout = sim::milliseconds(100);

sim::Task<void> profiles(sim::Env& env, sim::HistoryRecorder& history, int index, sim::ProcessId db,
                         int moves) {
  services::SqlClient sql(env, db, kSqlTimeout);
  std::vector<int> version(kCustomers + 1, 1);
  for (int n = 1; n <= moves; ++n) {
    co_await env.sleep(sim::milliseconds(2) + static_cast<sim::Duration>(env.random() % 4'000'000));
    const int c = static_cast<int>(env.random() % kCustomers) + 1;
    const std::string customer = "c-" + std::to_string(c);
    const std::string address = customer + "/a" + std::to_string(++version[c]);
    history.invoke(index, "move", {{"customer", customer}, {"address", address}});
    const std::vector<services::SqlStatement> move = {
        {"UPDATE customers SET address = ?1 WHERE id = ?2", {address, customer}, 1}};
    const auto r = co_await sql.transact(move, "move " + customer);
    history.complete(index, r.timed_out ? sim::OpType::kInfo : sim::OpType::kOk, "move",
                     {{"customer", customer}, {"address", address}});
  }
}

sim::Task<void> checkout(sim::Env& env, sim::HistoryRecorder& history, int index, sim::ProcessId db,
                         int orders, bool fixed) {
  services::SqlClient sql(env, db, kSqlTimeout);
  for (int n = 1; n <= orders; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 3'000'000));
    const std::string order = "o-" + std::to_string(index) + "-" + std::to_string(n);
    const std::string customer = "c-" + std::to_string(env.random() % kCustomers + 1);
    history.invoke(index, "checkout", {{"order", order}, {"customer", customer}});
    std::string address;
    if (!fixed) {
      const std::vector<services::SqlStatement> profile = {
          {"SELECT address FROM customers WHERE id = ?1", {customer}, std::nullopt}};
      const auto p = co_await sql.transact(profile, "profile " + customer);
      if (p.timed_out || !p.committed || p.results[0].empty()) {
        history.complete(index, sim::OpType::kInfo, "checkout", order, "no profile");
        continue;
      }
      address = p.results[0][0][0].get<std::string>();
    }
    // Take the payment (the payment provider's round trip).
    co_await env.sleep(sim::milliseconds(2) + static_cast<sim::Duration>(env.random() % 3'000'000));
    std::vector<services::SqlStatement> place;
    if (fixed) {
      place.push_back(
          {"INSERT INTO orders (id, customer, address) SELECT ?1, id, address FROM "
           "customers WHERE id = ?2",
           {order, customer},
           1});
    } else {
      place.push_back({"INSERT INTO orders (id, customer, address) VALUES (?1, ?2, ?3)",
                       {order, customer, address},
                       1});
    }
    const auto r = co_await sql.transact(place, "order " + order);
    history.complete(index, r.timed_out ? sim::OpType::kInfo : sim::OpType::kOk, "checkout",
                     {{"order", order}, {"customer", customer}, {"address", address}});
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"order_address",
            "checkouts copy the customer's shipping address into each order while customers move",
            {"buggy", "fixed"},
            {{"ships-to-current-address",
              "an order carries its customer's address as of the moment it was placed"}},
            {{"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    services::SqlConfig config;
    config.schema = {"CREATE TABLE customers (id TEXT PRIMARY KEY, address TEXT NOT NULL)",
                     "CREATE TABLE orders (id TEXT PRIMARY KEY, customer TEXT NOT NULL, "
                     "address TEXT NOT NULL)"};
    for (int c = 1; c <= kCustomers; ++c) {
      const std::string id = "c-" + std::to_string(c);
      config.schema.push_back("INSERT INTO customers VALUES ('" + id + "', '" + id + "/a1')");
    }
    const auto db = services::add_sql_service(sim, "db", config);
    auto& history = sim.history();
    const int ops = sim.config().ops;
    const int per_checkout = std::max(1, ops / kCheckouts);
    for (int i = 0; i < kCheckouts; ++i) {
      sim.add_process("checkout" + std::to_string(i + 1),
                      [&history, i, d = db.process, per_checkout, fixed](sim::Env& env) {
                        return checkout(env, history, i + 1, d, per_checkout, fixed);
                      },
                      {.crashable = false, .client = true});
    }
    sim.add_process("profiles",
                    [&history, d = db.process, ops](sim::Env& env) {
                      return profiles(env, history, 0, d, ops / 2);
                    },
                    {.crashable = false, .client = true});
    auto checked = std::make_shared<std::int64_t>(0);
    sim.add_invariant(
        "ships-to-current-address",
        sim::when_changed(
            [truth = db.truth] { return truth->committed().size(); },
            [truth = db.truth, checked]() -> std::optional<sim::Finding> {
              const auto rows = truth->query(
                  "SELECT o.rowid, o.id, o.customer, o.address, c.address FROM orders o JOIN "
                  "customers c ON c.id = o.customer WHERE o.rowid > " +
                  std::to_string(*checked) + " ORDER BY o.rowid");
              for (const auto& row : rows) {
                *checked = std::max(*checked, row[0].get<std::int64_t>());
                if (row[3] == row[4]) continue;
                const auto order = row[1].get<std::string>();
                const auto customer = row[2].get<std::string>();
                return sim::Finding{"order " + order + " ships to " + row[3].get<std::string>() +
                                        ", but customer " + customer + " had moved to " +
                                        row[4].get<std::string>() + " before it was placed",
                                    {order, customer}};
              }
              return std::nullopt;
            }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the order O and its customer C. The order's insert: the database's reply send
// for "order O" (committed). Its checkout's profile read: that process's last "profile C" request
// before the order's request, and the delivery of its reply. The overtaking change: the last
// committed "move C" whose reply send lies between the profile read's reply send (where it was
// served) and the order's commit. The keys: the profile read's delivery, the move's commit, the
// order's commit.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string order = between(msg, "order ", " ships to ");
  const std::string customer = between(msg, "but customer ", " had moved");
  if (order.empty() || customer.empty()) return {};
  auto committed_reply_for = [&](const std::string& label) {
    return find_all(trace, [&](const TraceEvent& e) {
      if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
          !payload(e).value("committed", false)) {
        return false;
      }
      const auto* req = request_send_for(trace, e);
      return req && payload(*req).value("label", "") == label;
    });
  };
  const auto placed = committed_reply_for("order " + order);
  if (placed.empty()) return {};
  const auto* place_req = request_send_for(trace, *placed[0]);
  if (!place_req) return {};
  const TraceEvent* read_req = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.lane == place_req->lane && e.kind == EventKind::kSend && e.type == "sql_request" &&
               payload(e).value("label", "") == "profile " + customer;
      },
      place_req->seq);
  if (!read_req) return {};
  const auto* read_reply = reply_send_for(trace, *read_req);
  if (!read_reply) return {};
  const auto* read_delivery = delivery_of(trace, *read_reply);
  const TraceEvent* move = nullptr;
  for (const auto* m : committed_reply_for("move " + customer)) {
    if (m->seq > read_reply->seq && m->seq < placed[0]->seq) move = m;
  }
  if (!move) return {};
  std::vector<std::uint64_t> keys;
  if (read_delivery) keys.push_back(read_delivery->seq);
  keys.push_back(move->seq);
  keys.push_back(placed[0]->seq);
  return keys;
}

}  // namespace order_address

Design make_order_address() {
  Design d;
  d.name = "order_address";
  d.bug =
      "a checkout reads the customer's address in one transaction and places the order with it "
      "in another: an address change in between ships the order to the old address";
  d.system = std::make_unique<order_address::System>();
  d.invariant = "ships-to-current-address";
  d.faults = {sim::FaultKind::kDelay};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"stale_derived_write", "outdated_read"};
  d.label.why_several =
      "the order row carries the address read, a value written elsewhere after the change that "
      "replaced it (a stale copy); and the read was fresh when served and overtaken before the "
      "order that used it took effect (an outdated read)";
  d.label.key_events = order_address::key_events;
  return d;
}

}  // namespace seer::bench::explain
