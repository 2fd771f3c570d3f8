// retry_transfer: a payments API in front of a SQL ledger; point-of-sale clients retry.
//
// Spec. Three point-of-sale clients charge orders through a payments API server (a design process
// with its own messages: `charge_request{req, order, amount, attempt}` -> `charge_reply{req, ok}`).
// The API charges an order in one transaction: a row in `charges(order_id, amount)` and the debit
// of the merchant's float. A client that gets no answer within 60 ms, or an error (the API's own
// database call timed out), sends the charge again.
// Invariant `charged-once`: no order is charged twice ("order o2-5 was charged 2 times").
// Operations (history): `charge` per order.
//
// Bug (variant `buggy`): the charge is not idempotent. When the transaction committed but its
// answer was lost on the way back (the database's reply lost or dropped, the API's reply dropped,
// or too late for the client's timeout), the client's retry charges the order again.
// Fix (variant `fixed`): an idempotency key: the transaction also inserts the order id into
// `charged_orders(order_id PRIMARY KEY)`; a retry of a committed charge fails on the key, which the
// API reports as success.
// Faults: delay, drop, lost-response.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/sql.hpp"

#include <deque>

namespace seer::bench::explain {

using seer::explain::EventKind;

namespace retry_transfer {

constexpr int kClients = 3;
constexpr sim::Duration kClientTimeout = sim::milliseconds(60);
constexpr sim::Duration kDbTimeout = sim::milliseconds(30);

struct ChargeRequest : sim::Payload {
  ChargeRequest(std::uint64_t r, std::string o, std::int64_t a, int t)
      : req(r), order(std::move(o)), amount(a), attempt(t) {}
  std::uint64_t req;
  std::string order;
  std::int64_t amount;
  int attempt;
  std::string_view type() const override { return "charge_request"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"order", order}, {"amount", amount}, {"attempt", attempt}};
  }
};

struct ChargeReply : sim::Payload {
  ChargeReply(std::uint64_t r, bool o, std::string e) : req(r), ok(o), error(std::move(e)) {}
  std::uint64_t req;
  bool ok;
  std::string error;
  std::string_view type() const override { return "charge_reply"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"ok", ok}, {"error", error}}; }
};

sim::Task<void> api(sim::Env& env, sim::ProcessId db, bool fixed) {
  std::deque<sim::Message> pending;
  services::SqlClient sql(env, db, kDbTimeout, &pending, env.random());
  for (;;) {
    sim::Message m;
    if (!pending.empty()) {
      m = std::move(pending.front());
      pending.pop_front();
    } else {
      m = co_await env.receive();
    }
    const auto* charge = m.as<ChargeRequest>();
    if (!charge) continue;
    std::vector<services::SqlStatement> tx;
    if (fixed) {
      tx.push_back({"INSERT INTO charged_orders (order_id) VALUES (?1)", {charge->order}, 1});
    }
    tx.push_back({"INSERT INTO charges (order_id, amount) VALUES (?1, ?2)",
                  {charge->order, charge->amount},
                  1});
    tx.push_back({"UPDATE float SET balance = balance - ?1", {charge->amount}, 1});
    const auto r = co_await sql.transact(
        tx, "charge " + charge->order + " try " + std::to_string(charge->attempt));
    bool ok = r.committed;
    std::string error = r.timed_out ? "database timeout" : r.error;
    if (fixed && !r.committed && r.error.find("UNIQUE") != std::string::npos) {
      ok = true;  // an earlier attempt committed
      error.clear();
    }
    env.send(m.from, sim::make_payload<ChargeReply>(charge->req, ok, error));
  }
}

sim::Task<void> pos(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId api_id, int id,
                    int orders) {
  std::uint64_t next_req = 1;
  for (int n = 0; n < orders; ++n) {
    co_await env.sleep(sim::milliseconds(2) + static_cast<sim::Duration>(env.random() % 8'000'000));
    const std::string order = "o" + std::to_string(id) + "-" + std::to_string(n);
    const auto amount = static_cast<std::int64_t>(env.random() % 90) + 10;
    history.invoke(id, "charge", order);
    bool done = false;
    for (int attempt = 1; !done; ++attempt) {
      const std::uint64_t req = next_req++;
      env.send(api_id, sim::make_payload<ChargeRequest>(req, order, amount, attempt));
      const sim::Time deadline = env.now() + kClientTimeout;
      for (;;) {
        const sim::Duration left = deadline - env.now();
        if (left <= 0) break;
        auto m = co_await env.receive_for(left);
        if (!m) break;  // no answer: charge again
        const auto* reply = m->as<ChargeReply>();
        if (!reply || reply->req != req) continue;  // a late answer to an earlier attempt
        done = reply->ok;
        break;  // an error: charge again
      }
    }
    history.complete(id, sim::OpType::kOk, "charge", order);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"retry_transfer",
            "point-of-sale clients charge orders through a payments API over a SQL ledger, "
            "retrying on timeouts",
            {"buggy", "fixed"},
            {{"charged-once", "no order is charged twice"}},
            {{"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE charges (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL, "
        "amount INTEGER NOT NULL)",
        "CREATE TABLE charged_orders (order_id TEXT PRIMARY KEY)",
        "CREATE TABLE float (balance INTEGER NOT NULL)", "INSERT INTO float VALUES (1000000)"};
    const auto db = services::add_sql_service(sim, "db", config);
    const auto api_id = sim.add_process(
        "api", [d = db.process, fixed](sim::Env& env) { return api(env, d, fixed); },
        {.crashable = false, .client = false});
    auto& history = sim.history();
    const int clients = sim.config().clients_or(kClients);
    for (int c = 0; c < clients; ++c) {
      const int share = sim.config().ops / clients + (c < sim.config().ops % clients ? 1 : 0);
      sim.add_process("pos" + std::to_string(c + 1),
                      [&history, api_id, c, share](sim::Env& env) {
                        return pos(env, history, api_id, c + 1, share);
                      },
                      {.crashable = false, .client = true});
    }
    const auto truth = db.truth;
    auto checked = std::make_shared<std::size_t>(0);
    sim.add_invariant("charged-once", [truth, checked]() -> std::optional<std::string> {
      if (*checked == truth->committed().size()) return std::nullopt;
      *checked = truth->committed().size();
      const auto rows = truth->query(
          "SELECT order_id, count(*) FROM charges GROUP BY order_id HAVING count(*) > 1 "
          "ORDER BY min(id) LIMIT 1");
      if (rows.empty()) return std::nullopt;
      return "order " + rows[0][0].get<std::string>() + " was charged " + rows[0][1].dump() +
             " times";
    });
  }
};

// Label. From the message: the order O. The cause: the first committed charge of O (the database's
// reply send, or its `lost_response` note when the database lost the reply), the event where its
// answer was lost on the way to the client (that note, the network's drop of the database's or the
// API's reply, or the client's receive timeout when the answer was late), and the client's retry
// (its charge_request send that led to the second commit).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string order = between(violation_message(trace), "order ", " was charged");
  if (order.empty()) return {};
  const std::string prefix = "charge " + order + " try ";
  const int db = lane_of(trace, "db");
  // Commits of O, in order: a reply send with committed:true, or a lost_response note.
  std::vector<const TraceEvent*> commits;
  for (const auto& e : trace.events) {
    if (e.lane != db) continue;
    const auto& facts = e.oracle();
    if (e.kind == EventKind::kAnnotation && e.line.value("what", "") == "lost_response" &&
        facts.is_object() && facts.value("committed", false) &&
        facts.value("label", "").rfind(prefix, 0) == 0) {
      commits.push_back(&e);
    } else if (e.kind == EventKind::kSend && e.type == "sql_reply" &&
               payload(e).value("committed", false) && facts.is_object() &&
               facts.contains("service") &&
               facts["service"].value("label", "").rfind(prefix, 0) == 0) {
      commits.push_back(&e);
    }
  }
  if (commits.size() < 2) return {};
  const auto* first = commits[0];
  const auto* second = commits[1];
  auto label_of = [](const TraceEvent& e) {
    const auto& f = e.oracle();
    return e.kind == EventKind::kAnnotation ? f.value("label", "")
                                            : f["service"].value("label", "");
  };
  const std::string first_try = between(label_of(*first), " try ", "");
  const std::string second_try = between(label_of(*second), " try ", "");
  // The client's retry: its charge_request for O with the second commit's attempt number.
  const auto* retry = find_first(trace, [&](const TraceEvent& e) {
    return e.kind == EventKind::kSend && e.type == "charge_request" &&
           payload(e).value("order", "") == order &&
           std::to_string(payload(e).value("attempt", 0)) == second_try;
  });
  if (!retry) return {};
  // Where the first attempt's answer was lost.
  const TraceEvent* loss = nullptr;
  if (first->kind == EventKind::kAnnotation) {
    loss = first;
  } else if (const auto* drop = find_first(
                 trace,
                 [&](const TraceEvent& e) {
                   return e.kind == EventKind::kDrop && e.message == first->message;
                 },
                 first->seq)) {
    loss = drop;
  }
  if (!loss) {
    // The API's reply to the first attempt's request, dropped.
    const auto* req1 = find_first(trace, [&](const TraceEvent& e) {
      return e.kind == EventKind::kSend && e.type == "charge_request" &&
             payload(e).value("order", "") == order &&
             std::to_string(payload(e).value("attempt", 0)) == first_try;
    });
    if (req1) {
      const auto* answer = find_first(
          trace,
          [&](const TraceEvent& e) {
            return e.kind == EventKind::kSend && e.type == "charge_reply" && e.peer == req1->lane &&
                   payload(e).value("req", std::uint64_t{0}) ==
                       payload(*req1).value("req", std::uint64_t{0});
          },
          first->seq);
      if (answer) {
        loss = find_first(
            trace,
            [&](const TraceEvent& e) {
              return e.kind == EventKind::kDrop && e.message == answer->message;
            },
            answer->seq);
      }
      if (!loss) {
        // Too late: the client's receive timeout before the retry.
        loss = find_last(
            trace,
            [&](const TraceEvent& e) {
              return e.lane == retry->lane && e.kind == EventKind::kTimer &&
                     e.line.value("timer", "") == "receive_timeout";
            },
            retry->seq);
      }
    }
  }
  if (!loss) return {};
  std::vector<std::uint64_t> keys = {first->seq};
  if (loss->seq != first->seq) keys.push_back(loss->seq);
  keys.push_back(retry->seq);
  return keys;
}

}  // namespace retry_transfer

Design make_retry_transfer() {
  Design d;
  d.name = "retry_transfer";
  d.bug = "a charge that committed but whose answer was lost is retried and charged again";
  d.system = std::make_unique<retry_transfer::System>();
  d.invariant = "charged-once";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kDrop, sim::FaultKind::kLostResponse};
  d.ops = 30;
  d.label.kinds = {"lost_response"};
  d.label.key_events = retry_transfer::key_events;
  return d;
}

}  // namespace seer::bench::explain
