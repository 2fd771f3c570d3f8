// refund_key: a refund API whose idempotency key is recorded after the refund it guards.
//
// Spec. A support desk (`desk`, the client) issues refunds (`r-1`, `r-2`, ...) through a load
// balancer to two API servers (`api1`, `api2`, the design's own processes and messages). The
// desk's request carries the refund id, which is also its idempotency key; the desk waits 6 ms
// for the answer and, without one, sends the same refund again, which the load balancer hands to
// the other API server. An API server handles one request at a time: it looks the key up in the
// KV store (`idem/r-7`); if it is there the refund was made and it answers `refunded` at once;
// otherwise it pays the refund (one SQL transaction inserting `refunds(refund_id, server)`),
// records the key in the KV store and answers.
// Invariant `refund-paid-once`: no refund is paid twice ("refund r-7 was paid 2 times (api1,
// api2)").
// Operations (history): `refund` per refund by the desk.
//
// Bug (variant `buggy`): the key is recorded only after the refund committed. A retry that
// reaches the other server while the first attempt is still under way (its payment committing,
// or its request or answers slow on the network) finds no key, and pays the refund again.
// Fix (variant `fixed`): the refund id is the `refunds` table's primary key, inserted in the
// payment's own transaction: a second payment of the same refund fails on the key, rolls back,
// and is answered `refunded` (the KV key stays as a fast path only).
// Faults: delay, reorder.
//
// Label. `lost_response`: the desk gave up on a request that was taking effect and sent it again.
// The keys: where the abandoned attempt's payment took effect (the database's reply send for its
// "refund r-N"; it may commit before or after the retry's, when its request was slow), the desk's
// give-up on that attempt (its receive timeout after sending it), the desk's send of the retry
// whose payment was the other one, and that payment's commit.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"
#include "seer/services/sql.hpp"

#include <deque>
#include <memory>
#include <optional>
#include <utility>

namespace seer::bench::explain {

namespace refund_key {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr sim::Duration kAnswerTimeout = sim::milliseconds(6);
constexpr sim::Duration kKvTimeout = sim::milliseconds(100);
constexpr sim::Duration kSqlTimeout = sim::milliseconds(200);
constexpr int kMaxAttempts = 30;

struct RefundRequest : sim::Payload {
  RefundRequest(std::uint64_t r, std::string id, int a)
      : req(r), refund(std::move(id)), amount(a) {}
  std::uint64_t req;
  std::string refund;
  int amount;
  std::string_view type() const override { return "refund"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"refund", refund}, {"amount", amount}};
  }
};

struct RefundReply : sim::Payload {
  RefundReply(std::uint64_t r, std::string id, std::string s)
      : req(r), refund(std::move(id)), status(std::move(s)) {}
  std::uint64_t req;
  std::string refund;
  std::string status;
  std::string_view type() const override { return "refund_reply"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"refund", refund}, {"status", status}};
  }
};

sim::Task<void> desk(sim::Env& env, sim::HistoryRecorder& history,
                     std::vector<sim::ProcessId> servers, int refunds) {
  std::uint64_t req = 0;
  std::size_t next = 0;  // the load balancer's round robin
  for (int n = 1; n <= refunds; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 4'000'000));
    const std::string id = "r-" + std::to_string(n);
    const int amount = static_cast<int>(env.random() % 90) + 10;
    history.invoke(0, "refund", id);
    bool done = false;
    for (int attempt = 0; attempt < kMaxAttempts && !done; ++attempt) {
      const std::uint64_t r = ++req;
      env.send(servers[next], sim::make_payload<RefundRequest>(r, id, amount));
      next = (next + 1) % servers.size();
      const sim::Time deadline = env.now() + kAnswerTimeout;
      for (;;) {
        const sim::Duration left = deadline - env.now();
        if (left <= 0) break;
        const auto m = co_await env.receive_for(left);
        if (!m) break;
        const auto* a = m->as<RefundReply>();
        if (a && a->req == r) {
          done = a->status == "refunded";
          break;
        }
      }
    }
    history.complete(0, done ? sim::OpType::kOk : sim::OpType::kInfo, "refund", id,
                     done ? std::string() : std::string("no answer"));
  }
}

// The idempotency key's value (built outside the coroutine: g++ and braced JSON in co_await).
nlohmann::json key_value(const std::string& server) {
  nlohmann::json v;
  v["server"] = server;
  return v;
}

sim::Task<void> api(sim::Env& env, sim::ProcessId kv_id, sim::ProcessId db, bool fixed) {
  std::deque<sim::Message> inbox;  // requests that arrive while one is handled
  services::KvClient kv(env, kv_id, kKvTimeout, &inbox);
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
    const auto* q = m.as<RefundRequest>();
    if (!q) continue;
    const std::uint64_t r = q->req;
    const std::string id = q->refund;
    const int amount = q->amount;
    const auto seen = co_await kv.get("idem/" + id, services::KvRead::kLinearizable);
    if (seen.timed_out) continue;  // no answer: the desk asks again
    if (seen.ok()) {
      env.send(m.from, sim::make_payload<RefundReply>(r, id, "refunded"));
      continue;
    }
    const std::vector<services::SqlStatement> pay = {
        {"INSERT INTO refunds (refund_id, server, amount) VALUES (?1, ?2, ?3)",
         {id, me, amount},
         1}};
    const auto paid = co_await sql.transact(pay, "refund " + id);
    if (paid.timed_out) continue;
    if (!paid.committed && !fixed) continue;
    // fixed: a rollback is the primary key: the refund was paid already.
    const auto key = co_await kv.put("idem/" + id, key_value(me));
    if (key.timed_out) continue;
    env.send(m.from, sim::make_payload<RefundReply>(r, id, "refunded"));
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"refund_key",
            "a desk's refunds through two API servers that check an idempotency key in KV and "
            "record it after paying in SQL",
            {"buggy", "fixed"},
            {{"refund-paid-once", "no refund is paid twice"}},
            {{"kv", {"linearizable"}}, {"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(sim, "kv", services::kv_config("linearizable"));
    services::SqlConfig config;
    config.schema = {fixed ? "CREATE TABLE refunds (refund_id TEXT PRIMARY KEY, server TEXT NOT "
                             "NULL, amount INTEGER NOT NULL)"
                           : "CREATE TABLE refunds (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                             "refund_id TEXT NOT NULL, server TEXT NOT NULL, amount INTEGER NOT "
                             "NULL)"};
    const auto db = services::add_sql_service(sim, "db", config);
    std::vector<sim::ProcessId> servers;
    for (int s = 1; s <= 2; ++s) {
      servers.push_back(sim.add_process(
          "api" + std::to_string(s),
          [k = kv.process, d = db.process, fixed](sim::Env& env) { return api(env, k, d, fixed); },
          {.crashable = false, .client = false, .pausable = false}));
    }
    auto& history = sim.history();
    const int refunds = sim.config().ops;
    sim.add_process("desk",
                    [&history, servers, refunds](sim::Env& env) {
                      return desk(env, history, servers, refunds);
                    },
                    {.crashable = false, .client = true});
    sim.add_invariant(
        "refund-paid-once",
        sim::when_changed([truth = db.truth] { return truth->committed().size(); },
                          [truth = db.truth]() -> std::optional<sim::Finding> {
                            const auto rows = truth->query(
                                "SELECT refund_id, count(*), group_concat(server, ', ') FROM "
                                "refunds GROUP BY refund_id HAVING count(*) > 1 ORDER BY "
                                "max(rowid) LIMIT 1");
                            if (rows.empty()) return std::nullopt;
                            const auto id = rows[0][0].get<std::string>();
                            return sim::Finding{"refund " + id + " was paid " + rows[0][1].dump() +
                                                    " times (" + rows[0][2].get<std::string>() +
                                                    ")",
                                                {id}};
                          }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the refund R. The committed payments of R (the database's reply sends for
// "refund R" that committed), the first two. Each payment was made by an API server handling one
// of the desk's `refund` messages: a server handles its messages in the order they arrive and
// starts each with one KV get, so the payment's handling is the server's k-th, where its latest
// get before the payment request is its k-th get, and the message is the k-th `refund`
// delivered to it; its send by the desk is the attempt the payment served. Of the two attempts,
// the earlier is the one the desk gave up on: its give-up (the desk's receive timeout after that
// send, before its next send), the later attempt's send (the retry that paid again), and both
// payments' commits are the keys.
const TraceEvent* attempt_of(const Trace& trace, const TraceEvent& commit) {
  const auto* pay = request_send_for(trace, commit);
  if (!pay) return nullptr;
  const int server = pay->lane;
  const auto gets = find_all(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kSend && e.lane == server && e.type == "kv_request" &&
               payload(e).value("op", "") == "get";
      },
      pay->seq);
  if (gets.empty()) return nullptr;
  const auto handled = find_all(trace, [&](const TraceEvent& e) {
    return e.kind == EventKind::kDeliver && e.lane == server && e.type == "refund";
  });
  if (handled.size() < gets.size()) return nullptr;
  return send_of(trace, *handled[gets.size() - 1]);
}

std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string id = between(violation_message(trace), "refund ", " was paid");
  if (id.empty()) return {};
  const auto commits = find_all(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
        !payload(e).value("committed", false)) {
      return false;
    }
    const auto* req = request_send_for(trace, e);
    return req && payload(*req).value("label", "") == "refund " + id;
  });
  if (commits.size() < 2) return {};
  const auto* a = attempt_of(trace, *commits[0]);
  const auto* b = attempt_of(trace, *commits[1]);
  if (!a || !b || a == b) return {};
  const TraceEvent* abandoned_commit = commits[0];
  const TraceEvent* retry_commit = commits[1];
  if (b->seq < a->seq) {
    std::swap(a, b);
    std::swap(abandoned_commit, retry_commit);
  }
  // a: the attempt the desk gave up on; b: the retry whose payment was the second one.
  const auto* next_send = find_first(
      trace, [&](const TraceEvent& e) { return e.kind == EventKind::kSend && e.lane == a->lane; },
      a->seq);
  const auto* gave_up = find_first(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kTimer && e.lane == a->lane &&
               e.line.value("timer", "") == "receive_timeout" &&
               (!next_send || e.seq < next_send->seq);
      },
      a->seq);
  std::vector<std::uint64_t> keys = {abandoned_commit->seq};
  if (gave_up) keys.push_back(gave_up->seq);
  keys.push_back(b->seq);
  keys.push_back(retry_commit->seq);
  return keys;
}

}  // namespace refund_key

Design make_refund_key() {
  Design d;
  d.name = "refund_key";
  d.bug =
      "an API server records a refund's idempotency key only after paying it: the desk's retry "
      "of a slow refund reaches the other server, finds no key, and pays again";
  d.system = std::make_unique<refund_key::System>();
  d.invariant = "refund-paid-once";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"lost_response"};
  d.label.key_events = refund_key::key_events;
  return d;
}

}  // namespace seer::bench::explain
