// seat_hold: a box office that confirms a seat without checking its hold is still the order's.
//
// Spec. Two box-office servers (`box1`, `box2`, the design's own processes, clients) sell seats of
// one show (`s-01` .. `s-30`, SQL `seats(seat, held_by, hold_expires, sold_to)`). An order first
// holds the best seat available: one transaction sets `held_by` and `hold_expires` (the server's
// clock + 25 ms) on the lowest-numbered seat that is not sold and not held (or whose hold has
// expired on the server's clock), and reads which seat it got. It then charges the customer
// through a payment provider (`payments`, own process: 1-4 ms, but one charge in six waits on the
// card issuer for 30-45 ms), and confirms: one transaction marks the seat sold to the order and
// records the ticket (`tickets(order_id, seat)`). A hold that expires lets the next order take
// the seat, which is how a seat abandoned mid-checkout goes back on sale.
// Invariant `seat-sold-once`: no seat has two tickets ("seat s-04 was sold to o-box1-7 and
// o-box2-9").
// Operations (history): `order` per order, by each box office.
//
// Bug (variant `buggy`): the confirmation does not check the hold: `UPDATE seats SET sold_to = ?o
// WHERE seat = ?s` and the ticket. When the payment outlasts the hold, another order holds the
// seat, pays and confirms; the slow order's confirmation then sells the seat again.
// Fix (variant `fixed`): the confirmation is guarded by the hold (`... WHERE seat = ?s AND held_by
// = ?o AND sold_to IS NULL`, expected to change one row); when it fails the order is refunded and
// told the seat is gone.
// Faults: delay.
//
// Label. `expired_lease`: the hold is a lease on the seat (its holder and a deadline on the
// holder's clock). The key events: the slow order's hold (the database's reply send for it), the
// other order's hold of the same seat after it expired (the takeover, the database's reply send),
// and the slow order's confirmation (its commit, the database's reply send).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/sql.hpp"

#include <cstdio>
#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace seat_hold {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kBoxes = 2;
constexpr int kSeats = 30;
constexpr sim::Duration kHold = sim::milliseconds(25);
constexpr sim::Duration kSqlTimeout = sim::milliseconds(100);
constexpr sim::Duration kPaymentTimeout = sim::milliseconds(80);

struct Charge : sim::Payload {
  Charge(std::uint64_t r, std::string o) : req(r), order(std::move(o)) {}
  std::uint64_t req;
  std::string order;
  std::string_view type() const override { return "charge"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"order", order}}; }
};

struct Charged : sim::Payload {
  Charged(std::uint64_t r, std::string o) : req(r), order(std::move(o)) {}
  std::uint64_t req;
  std::string order;
  std::string_view type() const override { return "charged"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"order", order}}; }
};

struct Refund : sim::Payload {
  explicit Refund(std::string o) : order(std::move(o)) {}
  std::string order;
  std::string_view type() const override { return "refund"; }
  nlohmann::json to_json() const override { return {{"order", order}}; }
};

std::string seat_name(int n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "s-%02d", n);
  return buf;
}

sim::Task<void> payments(sim::Env& env) {
  for (;;) {
    const auto m = co_await env.receive();
    const auto* c = m.as<Charge>();
    if (!c) continue;
    const bool issuer_wait = env.random() % 6 == 0;
    const sim::Duration work =
        issuer_wait ? sim::milliseconds(30) + static_cast<sim::Duration>(env.random() % 15'000'000)
                    : sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 3'000'000);
    co_await env.sleep(work);
    env.send(m.from, sim::make_payload<Charged>(c->req, c->order));
  }
}

sim::Task<void> box(sim::Env& env, sim::HistoryRecorder& history, int index, sim::ProcessId db,
                    sim::ProcessId payment, int orders, bool fixed) {
  services::SqlClient sql(env, db, kSqlTimeout);
  const std::string me = env.name_of(env.self());
  std::uint64_t req = 0;
  for (int n = 1; n <= orders; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 4'000'000));
    const std::string order = "o-" + me + "-" + std::to_string(n);
    history.invoke(index, "order", order);
    const sim::Time now = env.now();
    const std::vector<services::SqlStatement> hold = {
        {"UPDATE seats SET held_by = ?1, hold_expires = ?2 WHERE seat = (SELECT seat FROM seats "
         "WHERE sold_to IS NULL AND (held_by IS NULL OR hold_expires < ?3) ORDER BY seat LIMIT 1)",
         {order, now + kHold, now},
         1},
        {"SELECT seat FROM seats WHERE held_by = ?1", {order}, std::nullopt}};
    const auto h = co_await sql.transact(hold, "hold " + order);
    if (h.timed_out || !h.committed || h.results[1].empty()) {
      history.complete(index, sim::OpType::kFail, "order", order, std::string("sold out"));
      continue;
    }
    const std::string seat = h.results[1][0][0].get<std::string>();
    const std::uint64_t r = ++req;
    env.send(payment, sim::make_payload<Charge>(r, order));
    bool paid = false;
    const sim::Time deadline = env.now() + kPaymentTimeout;
    for (;;) {
      const sim::Duration left = deadline - env.now();
      if (left <= 0) break;
      const auto m = co_await env.receive_for(left);
      if (!m) break;
      const auto* c = m->as<Charged>();
      if (c && c->req == r) {
        paid = true;
        break;
      }
    }
    if (!paid) {
      history.complete(index, sim::OpType::kInfo, "order", order, std::string("payment unknown"));
      continue;
    }
    std::vector<services::SqlStatement> confirm;
    if (fixed) {
      confirm.push_back(
          {"UPDATE seats SET sold_to = ?1 WHERE seat = ?2 AND held_by = ?1 AND "
           "sold_to IS NULL",
           {order, seat},
           1});
    } else {
      confirm.push_back({"UPDATE seats SET sold_to = ?1 WHERE seat = ?2", {order, seat}, 1});
    }
    confirm.push_back(
        {"INSERT INTO tickets (order_id, seat) VALUES (?1, ?2)", {order, seat}, std::nullopt});
    const auto c = co_await sql.transact(confirm, "confirm " + order + " " + seat);
    if (!c.timed_out && !c.committed) {
      env.send(payment, sim::make_payload<Refund>(order));
      history.complete(index, sim::OpType::kFail, "order", order, std::string("seat gone"));
      continue;
    }
    history.complete(index, c.timed_out ? sim::OpType::kInfo : sim::OpType::kOk, "order", order,
                     seat);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"seat_hold",
            "box offices hold the best seat, charge the customer, then confirm the sale",
            {"buggy", "fixed"},
            {{"seat-sold-once", "no seat has two tickets"}},
            {{"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE seats (seat TEXT PRIMARY KEY, held_by TEXT, hold_expires INTEGER, sold_to "
        "TEXT)",
        "CREATE TABLE tickets (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL, "
        "seat TEXT NOT NULL)"};
    for (int s = 1; s <= kSeats; ++s) {
      config.schema.push_back("INSERT INTO seats (seat) VALUES ('" + seat_name(s) + "')");
    }
    const auto db = services::add_sql_service(sim, "db", config);
    const auto payment = sim.add_process("payments", [](sim::Env& env) { return payments(env); },
                                         {.crashable = false, .client = false, .pausable = false});
    auto& history = sim.history();
    const int orders = sim.config().ops;
    for (int b = 1; b <= kBoxes; ++b) {
      sim.add_process("box" + std::to_string(b),
                      [&history, b, d = db.process, payment, orders, fixed](sim::Env& env) {
                        return box(env, history, b - 1, d, payment, orders, fixed);
                      },
                      {.crashable = false, .client = true});
    }
    sim.add_invariant(
        "seat-sold-once",
        sim::when_changed([truth = db.truth] { return truth->committed().size(); },
                          [truth = db.truth]() -> std::optional<sim::Finding> {
                            const auto rows = truth->query(
                                "SELECT seat, min(id), max(id) FROM tickets GROUP BY seat "
                                "HAVING count(*) > 1 ORDER BY max(id) LIMIT 1");
                            if (rows.empty()) return std::nullopt;
                            const auto seat = rows[0][0].get<std::string>();
                            const auto first = truth->query(
                                "SELECT order_id FROM tickets WHERE id = " + rows[0][1].dump());
                            const auto second = truth->query(
                                "SELECT order_id FROM tickets WHERE id = " + rows[0][2].dump());
                            return sim::Finding{"seat " + seat + " was sold to " +
                                                    first[0][0].get<std::string>() + " and " +
                                                    second[0][0].get<std::string>(),
                                                {seat}};
                          }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// The database's committed reply to the transaction labelled exactly `label` (the last before
// `until`), or nullptr.
const TraceEvent* commit_of(const Trace& trace, const std::string& label, std::uint64_t until) {
  const TraceEvent* found = nullptr;
  for (const auto& e : trace.events) {
    if (e.seq > until) break;
    if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
        !payload(e).value("committed", false)) {
      continue;
    }
    const auto* req = request_send_for(trace, e);
    if (req && payload(*req).value("label", "") == label) found = &e;
  }
  return found;
}

// The other order's hold of `seat` between `from` and `to` (a committed `hold` transaction, not
// `order`'s, whose reply names the seat), or nullptr.
const TraceEvent* takeover_of(const Trace& trace, const std::string& seat, const std::string& order,
                              std::uint64_t from, std::uint64_t to) {
  for (std::uint64_t s = from + 1; s < to; ++s) {
    const auto& e = trace.at(s);
    if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
        !payload(e).value("committed", false)) {
      continue;
    }
    const auto* req = request_send_for(trace, e);
    if (!req) continue;
    const std::string label = payload(*req).value("label", "");
    if (label.rfind("hold ", 0) != 0 || label == "hold " + order) continue;
    if (payload(e).value("results", nlohmann::json()).dump().find("\"" + seat + "\"") ==
        std::string::npos) {
      continue;
    }
    return &e;
  }
  return nullptr;
}

// From the message: the seat S and its two orders. The order that sold S after its hold had been
// taken over (the other order held S between its hold and its confirmation; usually the second
// sold, but a slow order may confirm first while the other, holding legitimately, confirms
// after): its hold's commit, the other order's hold of S in between (the takeover), its
// confirmation's commit.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string seat = between(msg, "seat ", " was sold to ");
  const auto and_at = msg.rfind(" and ");
  if (seat.empty() || and_at == std::string::npos) return {};
  const std::string first = between(msg, " was sold to ", " and ");
  const std::string second = msg.substr(and_at + 5);
  const std::uint64_t until = violation_event(trace);
  for (const auto& order : {second, first}) {
    const auto* hold = commit_of(trace, "hold " + order, until);
    const auto* confirm = commit_of(trace, "confirm " + order + " " + seat, until);
    if (!hold || !confirm) continue;
    const auto* takeover = takeover_of(trace, seat, order, hold->seq, confirm->seq);
    if (takeover) return {hold->seq, takeover->seq, confirm->seq};
  }
  return {};
}

}  // namespace seat_hold

Design make_seat_hold() {
  Design d;
  d.name = "seat_hold";
  d.bug =
      "a box office confirms a seat without checking that its hold (which expired while the "
      "payment waited on the card issuer) is still the order's, and sells the seat twice";
  d.system = std::make_unique<seat_hold::System>();
  d.invariant = "seat-sold-once";
  d.faults = {sim::FaultKind::kDelay};
  d.ops = 30;
  d.held_out = true;
  d.label.kinds = {"expired_lease"};
  d.label.key_events = seat_hold::key_events;
  return d;
}

}  // namespace seer::bench::explain
