// idem_expiry: a payments API with idempotency keys that expire.
//
// Spec. A payments API server (`api`, the design's own process and messages) charges orders for
// three shop clients. Each charge request carries an idempotency key (the order id). The API
// looks the key up in the KV store (`idem/<order>`, like a Redis key with a time-to-live); if a
// record is there and unexpired (its `expires` against the API's clock) it answers with the
// recorded result without charging; otherwise it charges (a row in the SQL `charges` table),
// records {result, expires = now + retention} and answers. The API handles one request at a
// time. A shop waits 25 ms for the answer; on a timeout it waits 5 ms and retries with the same
// key (at most five attempts).
// Invariant `charged-once`: no order is charged twice ("order ord-2-5 was charged 2 times").
// Operations (history): `charge` per order.
//
// Bug (variant `buggy`): the keys are kept 40 ms, shorter than a charge's retries can take. When
// an answer is late (the database stalls and the API's requests queue behind it, or the shop
// itself is paused while its answer arrives) the shop times out and keeps retrying; a retry the
// API handles after the record expired is taken for a new charge.
// Fix (variant `fixed`): the retention is far longer than the retries can take: a shop retries
// only while its first attempt is less than 100 ms old (by its own clock) and reports the outcome
// as unknown after that, and the API keeps keys for 1 s (well beyond that window plus any backlog
// of requests queued behind a stalled database).
// Faults: delay, pause (the shops and the database may pause; the API and the KV store do not).
//
// Label: two kinds name the two halves of the cause. `lost_response`: the first charge took
// effect but the shop never learned it (it timed out) and retried. `expired_lease`: the API wrote
// a deadline ahead of its own clock (the record's `expires`) and charged again after it had passed;
// that the record expired before the retry is what the fix changes.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"
#include "seer/services/sql.hpp"

#include <deque>
#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace idem_expiry {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kShops = 3;
constexpr sim::Duration kShopTimeout = sim::milliseconds(25);
constexpr sim::Duration kBackoff = sim::milliseconds(5);
constexpr int kAttempts = 5;
constexpr sim::Duration kRetention = sim::milliseconds(40);
constexpr sim::Duration kFixedRetention = sim::seconds(1);
constexpr sim::Duration kFixedRetryWindow = sim::milliseconds(100);
constexpr sim::Duration kServiceTimeout = sim::milliseconds(250);

struct Charge : sim::Payload {
  Charge(std::uint64_t r, std::string k, std::int64_t a) : req(r), key(std::move(k)), amount(a) {}
  std::uint64_t req;
  std::string key;  // the idempotency key: the order id
  std::int64_t amount;
  std::string_view type() const override { return "charge"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"idempotency_key", key}, {"amount", amount}};
  }
};

struct ChargeReply : sim::Payload {
  ChargeReply(std::uint64_t r, std::string k, std::string s)
      : req(r), key(std::move(k)), status(std::move(s)) {}
  std::uint64_t req;
  std::string key;
  std::string status;  // charged, replayed, error
  std::string_view type() const override { return "charge_reply"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"idempotency_key", key}, {"status", status}};
  }
};

sim::Task<void> api(sim::Env& env, sim::ProcessId kv_store, sim::ProcessId db, bool fixed) {
  std::deque<sim::Message> inbox;  // requests that arrive while a call is in progress
  services::KvClient kv(env, kv_store, kServiceTimeout, &inbox);
  services::SqlClient sql(env, db, kServiceTimeout, &inbox);
  const sim::Duration retention = fixed ? kFixedRetention : kRetention;
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
    const std::string key = "idem/" + c->key;
    services::KvResult record;
    do {
      record = co_await kv.get(key);
    } while (record.timed_out);
    if (record.ok() && record.value.value("expires", sim::Time{0}) > env.now()) {
      env.send(m.from, sim::make_payload<ChargeReply>(c->req, c->key,
                                                      record.value.value("result", "charged")));
      continue;
    }
    const std::vector<services::SqlStatement> charge = {
        {"INSERT INTO charges (order_id, amount) VALUES (?1, ?2)", {c->key, c->amount}, 1}};
    const auto r = co_await sql.transact(charge, "charge " + c->key);
    if (r.timed_out || !r.committed) {
      env.send(m.from, sim::make_payload<ChargeReply>(c->req, c->key, "error"));
      continue;
    }
    const nlohmann::json value = {{"result", "charged"}, {"expires", env.now() + retention}};
    for (;;) {
      const auto put = co_await kv.put(key, value);
      if (!put.timed_out) break;
    }
    env.send(m.from, sim::make_payload<ChargeReply>(c->req, c->key, "charged"));
  }
}

sim::Task<void> shop(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId server, int id,
                     int orders, bool fixed) {
  std::uint64_t next_req = 1;
  for (int n = 1; n <= orders; ++n) {
    co_await env.sleep(sim::milliseconds(2) + static_cast<sim::Duration>(env.random() % 6'000'000));
    const std::string order = "ord-" + std::to_string(id) + "-" + std::to_string(n);
    const std::int64_t amount = 100 + static_cast<std::int64_t>(env.random() % 900);
    history.invoke(id, "charge", order);
    const sim::Time first = env.now();
    std::string outcome;
    for (int attempt = 0; attempt < kAttempts && outcome.empty(); ++attempt) {
      if (attempt > 0) {
        co_await env.sleep(kBackoff);
        if (fixed && env.now() - first > kFixedRetryWindow) break;  // past the key's retention
      }
      const std::uint64_t req = next_req++;
      env.send(server, sim::make_payload<Charge>(req, order, amount));
      const sim::Time deadline = env.now() + kShopTimeout;
      for (;;) {
        const sim::Duration left = deadline - env.now();
        if (left <= 0) break;
        const auto m = co_await env.receive_for(left);
        if (!m) break;
        const auto* reply = m->as<ChargeReply>();
        if (reply && reply->req == req) {
          outcome = reply->status;
          break;
        }
      }
    }
    if (outcome.empty()) {
      history.complete(id, sim::OpType::kInfo, "charge", order, "unknown");
    } else if (outcome == "error") {
      history.complete(id, sim::OpType::kFail, "charge", order, "error");
    } else {
      history.complete(id, sim::OpType::kOk, "charge", order);
    }
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"idem_expiry",
            "a payments API deduplicates retried charges with idempotency keys that expire",
            {"buggy", "fixed"},
            {{"charged-once", "no order is charged twice"}},
            {{"kv", {"linearizable"}}, {"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(sim, "kv", services::KvConfig{});
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE charges (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL, "
        "amount INTEGER NOT NULL)"};
    const auto db = services::add_sql_service(sim, "db", config);
    const auto server = sim.add_process(
        "api",
        [k = kv.process, d = db.process, fixed](sim::Env& env) { return api(env, k, d, fixed); },
        {.crashable = false, .client = false, .pausable = false});
    auto& history = sim.history();
    const int shops = sim.config().clients_or(kShops);
    for (int s = 1; s <= shops; ++s) {
      const int orders = sim.config().ops / shops + (s <= sim.config().ops % shops ? 1 : 0);
      sim.add_process("shop" + std::to_string(s),
                      [&history, server, s, orders, fixed](sim::Env& env) {
                        return shop(env, history, server, s, orders, fixed);
                      },
                      {.crashable = false, .client = true, .pausable = true});
    }
    sim.add_invariant(
        "charged-once",
        sim::when_changed([truth = db.truth] { return truth->committed().size(); },
                          [truth = db.truth]() -> std::optional<sim::Finding> {
                            const auto rows = truth->query(
                                "SELECT order_id, count(*) FROM charges GROUP BY order_id "
                                "HAVING count(*) > 1 ORDER BY min(id) LIMIT 1");
                            if (rows.empty()) return std::nullopt;
                            return "order " + rows[0][0].get<std::string>() + " was charged " +
                                   rows[0][1].dump() + " times";
                          }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the order O. The cause: the first charge of O taking effect (the database's
// committed reply), the API's idempotency record for O (the KV store's reply to its put: the
// deadline it wrote), the shop's receive timeout after its first attempt (where the answer was
// lost to it), and the retry the API charged again (the shop's send of the charge request whose
// delivery led to the second charge).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = trace.violation().value("message", "");
  const std::string head = "order ";
  const auto end = msg.find(" was charged ");
  if (msg.rfind(head, 0) != 0 || end == std::string::npos) return {};
  const std::string order = msg.substr(head.size(), end - head.size());
  std::vector<const TraceEvent*> commits;  // committed replies of "charge O", in order
  const TraceEvent* record = nullptr;      // the first applied put of idem/O
  for (const auto& e : trace.events) {
    if (e.kind != EventKind::kSend) continue;
    if (e.type == "sql_reply" && payload(e).value("committed", false)) {
      const auto* req = request_send_for(trace, e);
      if (req && payload(*req).value("label", "") == "charge " + order) commits.push_back(&e);
    } else if (e.type == "kv_reply" && !record) {
      const auto* req = request_send_for(trace, e);
      if (req && payload(*req).value("op", "") == "put" &&
          payload(*req).value("key", "") == "idem/" + order) {
        record = &e;
      }
    }
  }
  if (commits.size() < 2) return {};
  const auto* second_sql = request_send_for(trace, *commits[1]);
  if (!second_sql) return {};
  // The charge request the API was handling when it sent the second charge: its latest delivery
  // of a charge for O before that.
  const TraceEvent* retry_delivery = nullptr;
  for (std::uint64_t s = second_sql->seq; s-- > 1;) {
    const auto& e = trace.at(s);
    if (e.kind == EventKind::kDeliver && e.type == "charge" && e.lane == second_sql->lane &&
        payload(e).value("idempotency_key", "") == order) {
      retry_delivery = &e;
      break;
    }
  }
  if (!retry_delivery) return {};
  const TraceEvent* retry = nullptr;
  for (std::uint64_t s = retry_delivery->seq; s-- > 1;) {
    const auto& e = trace.at(s);
    if (e.kind == EventKind::kSend && e.message == retry_delivery->message) {
      retry = &e;
      break;
    }
  }
  if (!retry) return {};
  // The shop's first charge request for O, and its receive timeout after it.
  const TraceEvent* first_send = nullptr;
  for (const auto& e : trace.events) {
    if (e.kind == EventKind::kSend && e.type == "charge" && e.lane == retry->lane &&
        payload(e).value("idempotency_key", "") == order) {
      first_send = &e;
      break;
    }
  }
  const TraceEvent* timeout = nullptr;
  if (first_send) {
    for (std::uint64_t s = first_send->seq + 1; s < retry->seq; ++s) {
      const auto& e = trace.at(s);
      if (e.kind == EventKind::kTimer && e.lane == retry->lane &&
          e.line.value("timer", "") == "receive_timeout") {
        timeout = &e;
        break;
      }
    }
  }
  std::vector<std::uint64_t> keys = {commits[0]->seq};
  if (record && record->seq < commits[1]->seq) keys.push_back(record->seq);
  if (timeout) keys.push_back(timeout->seq);
  keys.push_back(retry->seq);
  return keys;
}

}  // namespace idem_expiry

Design make_idem_expiry() {
  Design d;
  d.name = "idem_expiry";
  d.bug =
      "a client whose answer was late retries a charge after its idempotency key expired, and "
      "the API charges it again";
  d.system = std::make_unique<idem_expiry::System>();
  d.invariant = "charged-once";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kPause};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"lost_response", "expired_lease"};
  d.label.why_several =
      "the failure has two halves: the first charge's answer never reached the shop, which "
      "retried (lost_response), and the retry came after the idempotency record's deadline, "
      "written ahead of the API's clock, had passed (expired_lease); the fix bounds the retries "
      "below the retention";
  d.label.key_events = idem_expiry::key_events;
  return d;
}

}  // namespace seer::bench::explain
