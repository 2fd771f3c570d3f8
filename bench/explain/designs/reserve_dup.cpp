// reserve_dup (held out): stock reservations through an inventory server.
//
// Spec. A web front end sends `reserve_request{req, reservation, sku, qty}` messages to an
// inventory server (a design process); the server records the reservation and takes the items
// out of stock in one SQL transaction and answers `reserve_reply{req, ok}`. The front end does not
// retry (an unanswered reservation is reported as unknown to the shopper).
// Invariant `reserved-once`: no reservation is recorded twice ("reservation r2-3 was recorded 2
// times").
// Operations (history): `reserve`.
//
// Bug (variant `buggy`): the server applies every request message it receives. The network may
// deliver a message twice (the `duplicate` fault: a retransmission below the application), and the
// server applies the copy again.
// Fix (variant `fixed`): the reservation id is a primary key in the same transaction; a copy fails
// on it and is answered as done.
// Faults: delay, duplicate.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/sql.hpp"

#include <deque>

namespace seer::bench::explain {

namespace reserve_dup {

constexpr int kFrontEnds = 2;
constexpr sim::Duration kTimeout = sim::milliseconds(50);

struct ReserveRequest : sim::Payload {
  ReserveRequest(std::uint64_t r, std::string id, int s, int q)
      : req(r), reservation(std::move(id)), sku(s), qty(q) {}
  std::uint64_t req;
  std::string reservation;
  int sku;
  int qty;
  std::string_view type() const override { return "reserve_request"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"reservation", reservation}, {"sku", sku}, {"qty", qty}};
  }
};

struct ReserveReply : sim::Payload {
  ReserveReply(std::uint64_t r, bool o) : req(r), ok(o) {}
  std::uint64_t req;
  bool ok;
  std::string_view type() const override { return "reserve_reply"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"ok", ok}}; }
};

sim::Task<void> inventory(sim::Env& env, sim::ProcessId db, bool fixed) {
  std::deque<sim::Message> pending;
  services::SqlClient sql(env, db, kTimeout, &pending, env.random());
  for (;;) {
    sim::Message m;
    if (!pending.empty()) {
      m = std::move(pending.front());
      pending.pop_front();
    } else {
      m = co_await env.receive();
    }
    const auto* r = m.as<ReserveRequest>();
    if (!r) continue;
    std::vector<services::SqlStatement> tx;
    if (fixed) {
      tx.push_back({"INSERT INTO reservation_ids (id) VALUES (?1)", {r->reservation}, 1});
    }
    tx.push_back({"INSERT INTO reservations (reservation, sku, qty) VALUES (?1, ?2, ?3)",
                  {r->reservation, r->sku, r->qty},
                  1});
    tx.push_back({"UPDATE stock SET qty = qty - ?1 WHERE sku = ?2", {r->qty, r->sku}, 1});
    const auto result = co_await sql.transact(tx, "reserve " + r->reservation);
    const bool ok = result.committed || (fixed && result.error.find("UNIQUE") != std::string::npos);
    env.send(m.from, sim::make_payload<ReserveReply>(r->req, ok));
  }
}

sim::Task<void> front_end(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId server,
                          int id, int count) {
  for (int n = 0; n < count; ++n) {
    co_await env.sleep(sim::milliseconds(2) + static_cast<sim::Duration>(env.random() % 6'000'000));
    const std::string reservation = "r" + std::to_string(id) + "-" + std::to_string(n);
    history.invoke(id, "reserve", reservation);
    const auto req = static_cast<std::uint64_t>(n + 1);
    env.send(server, sim::make_payload<ReserveRequest>(req, reservation,
                                                       static_cast<int>(env.random() % 3) + 1,
                                                       static_cast<int>(env.random() % 4) + 1));
    bool answered = false;
    const sim::Time deadline = env.now() + kTimeout;
    for (;;) {
      const sim::Duration left = deadline - env.now();
      if (left <= 0) break;
      auto m = co_await env.receive_for(left);
      if (!m) break;
      const auto* reply = m->as<ReserveReply>();
      if (reply && reply->req == req) {
        answered = true;
        break;
      }
    }
    history.complete(id, answered ? sim::OpType::kOk : sim::OpType::kInfo, "reserve", reservation);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"reserve_dup",
            "web front ends reserve stock through an inventory server over SQL",
            {"buggy", "fixed"},
            {{"reserved-once", "no reservation is recorded twice"}},
            {{"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE reservations (id INTEGER PRIMARY KEY AUTOINCREMENT, reservation TEXT NOT "
        "NULL, sku INTEGER NOT NULL, qty INTEGER NOT NULL)",
        "CREATE TABLE reservation_ids (id TEXT PRIMARY KEY)",
        "CREATE TABLE stock (sku INTEGER PRIMARY KEY, qty INTEGER NOT NULL)",
        "INSERT INTO stock VALUES (1, 1000)",
        "INSERT INTO stock VALUES (2, 1000)",
        "INSERT INTO stock VALUES (3, 1000)"};
    const auto db = services::add_sql_service(sim, "db", config);
    const auto server = sim.add_process(
        "inventory", [d = db.process, fixed](sim::Env& env) { return inventory(env, d, fixed); },
        {.crashable = false, .client = false});
    auto& history = sim.history();
    const int fronts = sim.config().clients_or(kFrontEnds);
    for (int f = 0; f < fronts; ++f) {
      const int share = sim.config().ops / fronts + (f < sim.config().ops % fronts ? 1 : 0);
      sim.add_process("web" + std::to_string(f + 1),
                      [&history, server, f, share](sim::Env& env) {
                        return front_end(env, history, server, f + 1, share);
                      },
                      {.crashable = false, .client = true});
    }
    const auto truth = db.truth;
    auto checked = std::make_shared<std::size_t>(0);
    sim.add_invariant("reserved-once", [truth, checked]() -> std::optional<std::string> {
      if (*checked == truth->committed().size()) return std::nullopt;
      *checked = truth->committed().size();
      const auto rows = truth->query(
          "SELECT reservation, count(*) FROM reservations GROUP BY reservation HAVING count(*) > 1 "
          "ORDER BY min(id) LIMIT 1");
      if (rows.empty()) return std::nullopt;
      return "reservation " + rows[0][0].get<std::string>() + " was recorded " + rows[0][1].dump() +
             " times";
    });
  }
};

// Label. From the message: the reservation R. The cause: the inventory server's two deliveries of
// R's request message (the original and the network's copy: same message id), and the second
// commit of R.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string id = between(violation_message(trace), "reservation ", " was recorded");
  if (id.empty()) return {};
  const auto deliveries = find_all(trace, [&](const TraceEvent& e) {
    return e.kind == EventKind::kDeliver && e.type == "reserve_request" &&
           payload(e).value("reservation", "") == id;
  });
  const auto commits = find_all(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
        !payload(e).value("committed", false)) {
      return false;
    }
    const auto* req = request_send_for(trace, e);
    return req && payload(*req).value("label", "") == "reserve " + id;
  });
  if (deliveries.size() < 2 || commits.size() < 2) return {};
  return {deliveries[0]->seq, deliveries[1]->seq, commits[1]->seq};
}

}  // namespace reserve_dup

Design make_reserve_dup() {
  Design d;
  d.name = "reserve_dup";
  d.bug = "an inventory server applies a network copy of a reservation request again";
  d.system = std::make_unique<reserve_dup::System>();
  d.invariant = "reserved-once";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kDuplicate};
  d.ops = 40;
  d.held_out = true;
  d.label.kinds = {"duplicate_delivery"};
  d.label.key_events = reserve_dup::key_events;
  return d;
}

}  // namespace seer::bench::explain
