// idem_scope: a payments API behind two gateways whose idempotency keys are scoped per gateway.
//
// Spec. A shop (`shop`) charges orders (`o-1`, `o-2`, ...) through a payments API served by two
// gateways (`gw1`, `gw2`, the design's own processes and messages) over a SQL database. Each
// charge request carries the order and an idempotency key (`shop:o-7`); the load balancer (the
// shop's own choice) sends each attempt to a random gateway. A gateway records the charge in one
// transaction: the key in `idem(key PRIMARY KEY)` and the charge in `charges(order_id, gateway)`;
// a transaction that fails on the key means the charge was already made, and the gateway answers
// `charged` all the same. The shop waits 10 ms for an answer and then tries again (up to 30 times).
// Invariant `charged-once`: no order is charged twice ("order o-7 charged 2 times (gw1, gw2)").
// Operations (history): `charge` per order by the shop.
//
// Bug (variant `buggy`): each gateway prefixes the key with its own name (`gw1/shop:o-7`), so
// two gateways never collide in the shared table. The key then only deduplicates retries that
// reach the same gateway: when a charge commits but its answer is lost or late (the network
// drops or delays it, or the gateway is still waiting for the database), and the retry goes to
// the other gateway, the order is charged a second time.
// Fix (variant `fixed`): the key is stored as the client sent it, shared by both gateways.
// Faults: delay, drop.
//
// Label. `lost_response`: the commit of the charge whose answer the shop never took in (the
// first "charge o-7" transaction that committed; or the second, when the shop was answered for
// the first and the second came from an attempt queued at a stalled gateway, which took effect
// after the shop gave up on it), where its answer was lost to the shop (the network's
// drop of the gateway's answer or of the database's reply, else the shop's receive timeout while
// waiting for that attempt), and the shop's attempt behind the other charge (its request's send
// to the other gateway: a retry, sent after the lost attempt or, when that gateway was stalled
// with requests waiting, before it).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/sql.hpp"

#include <deque>
#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace idem_scope {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr sim::Duration kAnswerTimeout = sim::milliseconds(10);
constexpr sim::Duration kSqlTimeout = sim::milliseconds(200);
constexpr int kMaxAttempts = 30;

struct Charge : sim::Payload {
  Charge(std::uint64_t r, std::string o, std::string k)
      : req(r), order(std::move(o)), key(std::move(k)) {}
  std::uint64_t req;
  std::string order;
  std::string key;
  std::string_view type() const override { return "charge"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"order", order}, {"idempotency_key", key}};
  }
};

struct Charged : sim::Payload {
  Charged(std::uint64_t r, std::string o) : req(r), order(std::move(o)) {}
  std::uint64_t req;
  std::string order;
  std::string_view type() const override { return "charged"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"order", order}}; }
};

sim::Task<void> shop(sim::Env& env, sim::HistoryRecorder& history,
                     std::vector<sim::ProcessId> gateways, int orders) {
  std::uint64_t req = 0;
  for (int n = 1; n <= orders; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 4'000'000));
    const std::string order = "o-" + std::to_string(n);
    history.invoke(0, "charge", order);
    bool charged = false;
    for (int attempt = 0; attempt < kMaxAttempts && !charged; ++attempt) {
      const std::uint64_t r = ++req;
      const auto gw = gateways[env.random() % gateways.size()];
      env.send(gw, sim::make_payload<Charge>(r, order, "shop:" + order));
      const sim::Time deadline = env.now() + kAnswerTimeout;
      for (;;) {
        const sim::Duration left = deadline - env.now();
        if (left <= 0) break;
        const auto m = co_await env.receive_for(left);
        if (!m) break;
        const auto* c = m->as<Charged>();
        if (c && c->req == r) {
          charged = true;
          break;
        }
      }
    }
    history.complete(0, charged ? sim::OpType::kOk : sim::OpType::kInfo, "charge", order,
                     charged ? std::string() : std::string("no answer"));
  }
}

sim::Task<void> gateway(sim::Env& env, sim::ProcessId db, bool fixed) {
  std::deque<sim::Message> inbox;  // requests that arrive while a charge commits
  services::SqlClient sql(env, db, kSqlTimeout, &inbox);
  const std::string me = env.name_of(env.self());
  for (;;) {
    sim::Message m;
    if (!inbox.empty()) {
      m = std::move(inbox.front());
      inbox.pop_front();
    } else {
      m = co_await env.receive();
    }
    const auto* c = m.as<Charge>();
    if (!c) continue;
    const std::uint64_t r = c->req;
    const std::string order = c->order;
    // Buggy: the key namespaced by gateway, so the gateways "cannot collide" in the shared table.
    const std::string key = fixed ? c->key : me + "/" + c->key;
    const std::vector<services::SqlStatement> charge = {
        {"INSERT INTO idem (key) VALUES (?1)", {key}, 1},
        {"INSERT INTO charges (order_id, gateway) VALUES (?1, ?2)", {order, me}, 1}};
    const auto res = co_await sql.transact(charge, "charge " + order);
    if (res.timed_out) continue;  // unknown: the shop asks again
    // Committed, or rolled back on the key: either way the order is charged.
    env.send(m.from, sim::make_payload<Charged>(r, order));
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"idem_scope",
            "a shop charges orders through two payment gateways that deduplicate retries by "
            "idempotency key",
            {"buggy", "fixed"},
            {{"charged-once", "no order is charged twice"}},
            {{"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    services::SqlConfig config;
    config.schema = {"CREATE TABLE idem (key TEXT PRIMARY KEY)",
                     "CREATE TABLE charges (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT "
                     "NOT NULL, gateway TEXT NOT NULL)"};
    const auto db = services::add_sql_service(sim, "db", config);
    std::vector<sim::ProcessId> gateways;
    for (int g = 1; g <= 2; ++g) {
      gateways.push_back(
          sim.add_process("gw" + std::to_string(g),
                          [d = db.process, fixed](sim::Env& env) { return gateway(env, d, fixed); },
                          {.crashable = false, .client = false, .pausable = false}));
    }
    auto& history = sim.history();
    const int orders = sim.config().ops;
    sim.add_process("shop",
                    [&history, gateways, orders](sim::Env& env) {
                      return shop(env, history, gateways, orders);
                    },
                    {.crashable = false, .client = true});
    sim.add_invariant(
        "charged-once",
        sim::when_changed([truth = db.truth] { return truth->committed().size(); },
                          [truth = db.truth]() -> std::optional<sim::Finding> {
                            const auto rows = truth->query(
                                "SELECT order_id, count(*), group_concat(gateway, ', ') FROM "
                                "charges GROUP BY order_id HAVING count(*) > 1 ORDER BY max(id) "
                                "LIMIT 1");
                            if (rows.empty()) return std::nullopt;
                            const auto order = rows[0][0].get<std::string>();
                            return sim::Finding{"order " + order + " charged " + rows[0][1].dump() +
                                                    " times (" + rows[0][2].get<std::string>() +
                                                    ")",
                                                {order}};
                          }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the order O. The committed "charge O" transactions (the database's reply
// sends), the first and the second, each from the shop's request its gateway was handling. The
// lost one is the first, unless the shop took in the first's answer (delivered before its next
// receive timeout) and not the second's: a stalled gateway's queued attempt that took effect
// after the shop was answered elsewhere. Where its answer was lost: the network's drop of the
// database's reply or of the gateway's `charged`, else the shop's receive timeout after sending
// it. The other attempt: the shop's request behind the other commit.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string order = between(violation_message(trace), "order ", " charged ");
  if (order.empty()) return {};
  const auto commits = find_all(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
        !payload(e).value("committed", false)) {
      return false;
    }
    const auto* req = request_send_for(trace, e);
    return req && payload(*req).value("label", "") == "charge " + order;
  });
  if (commits.size() < 2) return {};
  const auto* tx1 = request_send_for(trace, *commits[0]);
  const auto* tx2 = request_send_for(trace, *commits[1]);
  if (!tx1 || !tx2 || tx1->lane == tx2->lane) return {};
  // The shop's request behind a transaction. A gateway handles the charges in the order they
  // were delivered (those that arrive while a transaction is open wait in its inbox), one
  // transaction each: its k-th transaction is for its k-th delivered charge, which need not be
  // the latest delivered before the transaction.
  auto request_before = [&](const TraceEvent& tx) -> const TraceEvent* {
    const auto txs = find_all(
        trace,
        [&](const TraceEvent& e) {
          return e.kind == EventKind::kSend && e.lane == tx.lane && e.type == "sql_request";
        },
        tx.seq);
    const auto charges = find_all(
        trace,
        [&](const TraceEvent& e) {
          return e.kind == EventKind::kDeliver && e.lane == tx.lane && e.type == "charge";
        },
        tx.seq);
    if (txs.empty() || charges.size() < txs.size()) return nullptr;
    const auto* d = charges[txs.size() - 1];
    if (payload(*d).value("order", "") != order) return nullptr;
    return send_of(trace, *d);
  };
  const auto* first_req = request_before(*tx1);
  const auto* second_req = request_before(*tx2);
  if (!first_req || !second_req) return {};
  // Whether the shop took in the answer to a request: its `charged` delivered before the shop's
  // next receive timeout after sending it.
  auto timeout_after = [&](const TraceEvent& req) {
    return find_first(
        trace,
        [&](const TraceEvent& e) {
          return e.kind == EventKind::kTimer && e.lane == req.lane &&
                 e.line.value("timer", "") == "receive_timeout";
        },
        req.seq);
  };
  auto answer_to = [&](const TraceEvent& req) {
    const auto r = payload(req).value("req", std::uint64_t{0});
    return find_first(
        trace,
        [&](const TraceEvent& e) {
          return e.kind == EventKind::kSend && e.type == "charged" && e.peer == req.lane &&
                 payload(e).value("req", std::uint64_t{0}) == r;
        },
        req.seq);
  };
  auto answered = [&](const TraceEvent& req) {
    const auto* a = answer_to(req);
    const auto* d = a ? delivery_of(trace, *a) : nullptr;
    const auto* t = timeout_after(req);
    return d && (!t || d->seq < t->seq);
  };
  // The charge whose answer the shop never took in (the first, unless the shop took in its
  // answer and the second was the one that took effect unseen), and the shop's other attempt.
  const bool second_lost = answered(*first_req) && !answered(*second_req);
  const TraceEvent* lost_commit = second_lost ? commits[1] : commits[0];
  const TraceEvent* lost_req = second_lost ? second_req : first_req;
  const TraceEvent* other_req = second_lost ? first_req : second_req;
  const auto* answer = answer_to(*lost_req);
  const TraceEvent* lost_at = find_first(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kDrop &&
               (e.message == lost_commit->message || (answer && e.message == answer->message));
      },
      lost_req->seq);
  // A late charge: the shop had given up on it (its timeout) long before it took effect.
  if (!lost_at || second_lost) lost_at = timeout_after(*lost_req);
  std::vector<std::uint64_t> keys = {lost_commit->seq};
  if (lost_at) keys.push_back(lost_at->seq);
  keys.push_back(other_req->seq);
  return keys;
}

}  // namespace idem_scope

Design make_idem_scope() {
  Design d;
  d.name = "idem_scope";
  d.bug =
      "idempotency keys namespaced per gateway: a charge whose answer is lost or late, retried "
      "through the other gateway, is charged twice";
  d.system = std::make_unique<idem_scope::System>();
  d.invariant = "charged-once";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kDrop};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"lost_response"};
  d.label.key_events = idem_scope::key_events;
  return d;
}

}  // namespace seer::bench::explain
