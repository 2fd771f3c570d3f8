// atm_decline: cash machines that decline a withdrawal whose debit went unanswered.
//
// Spec. Two cash machines (`atm1`, `atm2`) serve withdrawals against accounts in the bank's SQL
// database (`accounts(id, balance)`). A withdrawal (`w-1-7`) is one transaction: a line in
// `withdrawals(id, account, amount)` and the debit, guarded on the balance (`UPDATE accounts SET
// balance = balance - ? WHERE id = ? AND balance >= ?`, expected to change one row). Committed:
// the machine dispenses the cash. Rolled back (not enough money): it declines. The machine waits
// 12 ms for the bank; with no answer it tells the customer the withdrawal failed and records the
// decline (`declined(id)`), keeping its queue of customers moving. The bank reconciles
// `declined` against `withdrawals` only at night.
// Invariant `declined-not-debited`: no withdrawal is both debited and declined ("withdrawal
// w-1-7 debited account a-2 but atm1 declined it").
// Operations (history): `withdraw` per customer.
//
// Bug (variant `buggy`): no answer is taken for "not done". The bank may have committed the
// debit and lost its answer (`lost-response`), or answered after the machine gave up: the
// account is debited, no cash comes out, and the machine records the withdrawal as declined.
// Fix (variant `fixed`): the withdrawal's id is the primary key of `withdrawals`, and with no
// answer the machine sends the same withdrawal again until it gets one: a `UNIQUE` failure says
// the first attempt had committed (dispense); only a guard failure declines.
// Faults: delay, lost-response.
//
// Label: `lost_response`: where the debit took effect (the database's `lost_response` note for
// it, else its reply send, which came after the machine gave up), the machine's receive timeout
// (where it took the silence for "not done"), and the decline's commit (the database's reply send
// for it, or its `lost_response` note when that answer was lost too).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/sql.hpp"

#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace atm_decline {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kAtms = 2;
constexpr int kAccounts = 3;
constexpr sim::Duration kBankTimeout = sim::milliseconds(12);
constexpr int kMaxAttempts = 50;

sim::Task<void> atm(sim::Env& env, sim::HistoryRecorder& history, int index, sim::ProcessId db,
                    int customers, bool fixed) {
  services::SqlClient sql(env, db, kBankTimeout);
  const std::string me = env.name_of(env.self());
  for (int n = 1; n <= customers; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 4'000'000));
    const std::string id = "w-" + std::to_string(index + 1) + "-" + std::to_string(n);
    const std::string account = "a-" + std::to_string(env.random() % kAccounts + 1);
    const auto amount = static_cast<std::int64_t>(env.random() % 5 + 1) * 20;
    const nlohmann::json value = {{"withdrawal", id}, {"account", account}, {"amount", amount}};
    history.invoke(index, "withdraw", value);
    const std::vector<services::SqlStatement> withdraw = {
        {"INSERT INTO withdrawals (id, account, amount) VALUES (?1, ?2, ?3)",
         {id, account, amount},
         1},
        {"UPDATE accounts SET balance = balance - ?1 WHERE id = ?2 AND balance >= ?1",
         {amount, account},
         1}};
    services::SqlResult r = co_await sql.transact(withdraw, "withdraw " + id);
    for (int attempt = 1; fixed && r.timed_out && attempt < kMaxAttempts; ++attempt) {
      r = co_await sql.transact(withdraw, "withdraw " + id);  // the same withdrawal again
    }
    bool dispense = false;
    if (!r.timed_out) {
      // Committed, or (fixed) a repeat whose first attempt had committed.
      dispense = r.committed || r.error.find("UNIQUE") != std::string::npos;
    } else if (fixed) {
      history.complete(index, sim::OpType::kInfo, "withdraw", value, "bank unreachable");
      continue;  // unknown: left to the bank's reconciliation, not declined
    }
    if (dispense) {
      history.complete(index, sim::OpType::kOk, "withdraw", value);
      continue;
    }
    // Declined: not enough money, or (buggy) no answer in time.
    const std::vector<services::SqlStatement> decline = {
        {"INSERT INTO declined (id, atm) VALUES (?1, ?2)", {id, me}, 1}};
    co_await sql.transact(decline, "decline " + id);
    history.complete(index, sim::OpType::kFail, "withdraw", value,
                     r.timed_out ? "bank did not answer" : "insufficient funds");
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"atm_decline",
            "cash machines debit accounts in SQL and decline a withdrawal the bank did not answer",
            {"buggy", "fixed"},
            {{"declined-not-debited", "no withdrawal is both debited and declined"}},
            {{"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE accounts (id TEXT PRIMARY KEY, balance INTEGER NOT NULL)",
        fixed ? "CREATE TABLE withdrawals (id TEXT PRIMARY KEY, account TEXT NOT NULL, amount "
                "INTEGER NOT NULL)"
              : "CREATE TABLE withdrawals (n INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, "
                "account TEXT NOT NULL, amount INTEGER NOT NULL)",
        "CREATE TABLE declined (n INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, atm TEXT "
        "NOT NULL)"};
    for (int a = 1; a <= kAccounts; ++a) {
      config.schema.push_back("INSERT INTO accounts VALUES ('a-" + std::to_string(a) + "', 2000)");
    }
    const auto db = services::add_sql_service(sim, "db", config);
    auto& history = sim.history();
    const int per_atm = std::max(1, sim.config().ops / kAtms);
    for (int i = 0; i < kAtms; ++i) {
      sim.add_process("atm" + std::to_string(i + 1),
                      [&history, i, d = db.process, per_atm, fixed](sim::Env& env) {
                        return atm(env, history, i, d, per_atm, fixed);
                      },
                      {.crashable = false, .client = true});
    }
    sim.add_invariant(
        "declined-not-debited",
        sim::when_changed([truth = db.truth] { return truth->committed().size(); },
                          [truth = db.truth]() -> std::optional<sim::Finding> {
                            const auto rows = truth->query(
                                "SELECT w.id, w.account, d.atm FROM withdrawals w JOIN declined "
                                "d ON d.id = w.id ORDER BY d.n DESC LIMIT 1");
                            if (rows.empty()) return std::nullopt;
                            const auto id = rows[0][0].get<std::string>();
                            const auto account = rows[0][1].get<std::string>();
                            return sim::Finding{"withdrawal " + id + " debited account " + account +
                                                    " but " + rows[0][2].get<std::string>() +
                                                    " declined it",
                                                {id}};
                          }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// The database's `lost_response` note for a transaction labelled `label` (the note's facts carry
// the label), or nullptr.
const TraceEvent* lost_note(const Trace& trace, const std::string& label) {
  return find_first(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kAnnotation || e.line.value("what", "") != "lost_response") {
      return false;
    }
    const auto it = e.line.find("oracle");
    return it != e.line.end() && it->is_object() && it->value("label", "") == label;
  });
}

// From the message: the withdrawal W and the machine M. The debit: the committed transaction
// "withdraw W" (the database's `lost_response` note for it when its answer was lost, else its
// reply send). Where M gave up on it: M's receive timeout after the request's send. The decline:
// the database's reply send for "decline W", else its `lost_response` note. The keys: the debit,
// the timeout, the decline.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string id = between(msg, "withdrawal ", " debited");
  const std::string machine = between(msg, " but ", " declined");
  if (id.empty() || machine.empty()) return {};
  const int lane = lane_of(trace, machine);
  auto reply_for = [&](const std::string& label) -> const TraceEvent* {
    return find_first(trace, [&](const TraceEvent& e) {
      if (e.kind != EventKind::kSend || e.type != "sql_reply" || e.peer != lane) return false;
      const auto* req = request_send_for(trace, e);
      return req && payload(*req).value("label", "") == label;
    });
  };
  const TraceEvent* request = find_first(trace, [&](const TraceEvent& e) {
    return e.lane == lane && e.kind == EventKind::kSend && e.type == "sql_request" &&
           payload(e).value("label", "") == "withdraw " + id;
  });
  if (!request) return {};
  const TraceEvent* debit = lost_note(trace, "withdraw " + id);
  if (!debit) debit = reply_for("withdraw " + id);
  if (!debit) return {};
  const TraceEvent* timeout = find_first(
      trace,
      [&](const TraceEvent& e) {
        return e.lane == lane && e.kind == EventKind::kTimer &&
               e.line.value("timer", "") == "receive_timeout";
      },
      request->seq);
  const TraceEvent* decline = reply_for("decline " + id);
  if (!decline) decline = lost_note(trace, "decline " + id);
  std::vector<std::uint64_t> keys = {debit->seq};
  if (timeout) keys.push_back(timeout->seq);
  if (decline) keys.push_back(decline->seq);
  return keys;
}

}  // namespace atm_decline

Design make_atm_decline() {
  Design d;
  d.name = "atm_decline";
  d.bug =
      "a cash machine declines a withdrawal the bank did not answer in time, though the bank "
      "had debited the account";
  d.system = std::make_unique<atm_decline::System>();
  d.invariant = "declined-not-debited";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kLostResponse};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"lost_response"};
  d.label.key_events = atm_decline::key_events;
  return d;
}

}  // namespace seer::bench::explain
