// two_phase: a two-phase commit whose participants abort on their own after voting yes.
//
// Spec. A transfer service moves money between two banks with two-phase commit. The coordinator
// (`coordinator`, a client) runs one transfer at a time (`t-1`, `t-2`, ...): it sends `prepare`
// to both participants (`bank-a`, `bank-b`, the design's own processes and messages), each of
// which holds the amount in SQL (`accounts.held`) and records its part as `prepared`
// (`parts(txn, bank, state)`, one transaction) and votes yes (or no, if the money is not there).
// With two yes votes the coordinator logs its decision (`decisions(txn, outcome)`) and sends
// `commit` to both; otherwise (a no, or a vote missing after 30 ms) it logs and sends `abort`. A
// participant applies the decision in one transaction (`committed`: the amount moves; `aborted`:
// the hold is released).
// Invariant `transfer-atomic`: no transfer is committed at one bank and aborted at the other
// ("transfer t-7 committed at bank-a but aborted at bank-b").
// Operations (history): `transfer` per transfer by the coordinator.
//
// Bug (variant `buggy`): a participant that voted yes waits 10 ms for the decision and, when none
// came, aborts on its own (releases the hold, `aborted`), taking the silence for a failed
// transfer. But the coordinator may have decided commit: it was paused, or its decision was slow
// on the network; the decision arrives after the participant gave up, the participant cannot
// apply it, and the other bank commits.
// Fix (variant `fixed`): a participant that voted yes never decides alone: when the decision is
// late it reads the coordinator's decision log, applies the outcome found there, and keeps
// waiting while there is none.
// Faults: delay, pause (only the coordinator is pausable: a GC pause in the transfer service).
//
// Label. `lost_response`: the participant's yes vote was its request for the outcome; it took
// effect (the coordinator's logged commit decision counted it), but the participant never learned
// the outcome before it gave up at its receive timeout, and acted on the silence by aborting.
// Key events: that participant's vote, the coordinator's logged commit decision, the participant's
// receive timeout, the participant's abort commit.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/sql.hpp"

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace seer::bench::explain {

namespace two_phase {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr sim::Duration kDecisionTimeout = sim::milliseconds(10);
constexpr sim::Duration kVoteTimeout = sim::milliseconds(30);
constexpr sim::Duration kSqlTimeout = sim::milliseconds(200);

struct Prepare : sim::Payload {
  Prepare(std::string t, std::string f, std::int64_t a)
      : txn(std::move(t)), from(std::move(f)), amount(a) {}
  std::string txn;
  std::string from;  // the bank the money leaves; the other receives it
  std::int64_t amount;
  std::string_view type() const override { return "prepare"; }
  nlohmann::json to_json() const override {
    return {{"txn", txn}, {"from", from}, {"amount", amount}};
  }
};

struct Vote : sim::Payload {
  Vote(std::string t, std::string b, bool y) : txn(std::move(t)), bank(std::move(b)), yes(y) {}
  std::string txn;
  std::string bank;
  bool yes;
  std::string_view type() const override { return "vote"; }
  nlohmann::json to_json() const override { return {{"txn", txn}, {"bank", bank}, {"yes", yes}}; }
};

struct Decision : sim::Payload {
  Decision(std::string t, bool c) : txn(std::move(t)), commit(c) {}
  std::string txn;
  bool commit;
  std::string_view type() const override { return "decision"; }
  nlohmann::json to_json() const override {
    return {{"txn", txn}, {"outcome", commit ? "commit" : "abort"}};
  }
};

// The participant's transaction applying the decision to its part of `txn`: a commit moves the
// part's amount (negative when money leaves) into the balance, and either way the hold goes. Only
// a part still `prepared` is touched, so a decision that comes again (or too late) changes nothing.
std::vector<services::SqlStatement> finish(const std::string& txn, const std::string& bank,
                                           bool commit) {
  const std::string amount = "(SELECT amount FROM parts WHERE txn = ?1 AND bank = ?2)";
  const std::string prepared =
      "EXISTS (SELECT 1 FROM parts WHERE txn = ?1 AND bank = ?2 AND state = 'prepared')";
  return {
      {"UPDATE accounts SET " + std::string(commit ? "balance = balance + " + amount + ", " : "") +
           "held = held - max(0, -" + amount + ") WHERE bank = ?2 AND " + prepared,
       {txn, bank},
       std::nullopt},
      {"UPDATE parts SET state = ?3 WHERE txn = ?1 AND bank = ?2 AND state = 'prepared'",
       {txn, bank, commit ? "committed" : "aborted"},
       std::nullopt}};
}

sim::Task<void> participant(sim::Env& env, sim::ProcessId db, bool fixed) {
  std::deque<sim::Message> inbox;  // messages that arrive while a transaction commits
  services::SqlClient sql(env, db, kSqlTimeout, &inbox);
  const std::string me = env.name_of(env.self());
  auto next = [&]() -> sim::Task<sim::Message> {
    if (!inbox.empty()) {
      auto m = std::move(inbox.front());
      inbox.pop_front();
      co_return m;
    }
    co_return co_await env.receive();
  };
  for (;;) {
    const sim::Message m = co_await next();
    if (const auto* d = m.as<Decision>()) {
      // A decision for a part no longer prepared (already applied, or aborted here) changes
      // nothing: finish() only touches a prepared part.
      co_await sql.transact(finish(d->txn, me, d->commit),
                            (d->commit ? "commit " : "abort ") + d->txn + " at " + me);
      continue;
    }
    const auto* p = m.as<Prepare>();
    if (!p) continue;
    const std::string txn = p->txn;
    // Money leaving this bank is held (amount < 0 in the part); money arriving is not.
    const std::int64_t delta = p->from == me ? -p->amount : p->amount;
    std::vector<services::SqlStatement> prepare = {
        {"INSERT INTO parts (txn, bank, amount, state) VALUES (?1, ?2, ?3, 'prepared')",
         {txn, me, delta},
         1}};
    if (delta < 0) {
      prepare.push_back(
          {"UPDATE accounts SET held = held + ?1 WHERE bank = ?2 AND balance - "
           "held >= ?1",
           {-delta, me},
           1});
    }
    const auto r = co_await sql.transact(prepare, "prepare " + txn + " at " + me);
    const bool yes = !r.timed_out && r.committed;
    env.send(m.from, sim::make_payload<Vote>(txn, me, yes));
    if (!yes) continue;
    // Wait for the decision on this transfer.
    std::optional<bool> outcome;
    while (!outcome) {
      for (auto it = inbox.begin(); it != inbox.end(); ++it) {
        const auto* d = it->as<Decision>();
        if (d && d->txn == txn) {
          outcome = d->commit;
          inbox.erase(it);
          break;
        }
      }
      if (outcome) break;
      const auto got = co_await env.receive_for(kDecisionTimeout);
      if (got) {
        const auto* d = got->as<Decision>();
        if (d && d->txn == txn) {
          outcome = d->commit;
        } else {
          inbox.push_back(*got);
        }
        continue;
      }
      if (!fixed) {
        outcome = false;  // the bug: silence taken for an abort
        break;
      }
      const std::vector<services::SqlStatement> read = {
          {"SELECT outcome FROM decisions WHERE txn = ?1", {txn}, std::nullopt}};
      const auto logged = co_await sql.transact(read, "read decision " + txn);
      if (!logged.timed_out && logged.committed && !logged.results[0].empty()) {
        outcome = logged.results[0][0][0].get<std::string>() == "commit";
      }
    }
    co_await sql.transact(finish(txn, me, *outcome),
                          (*outcome ? "commit " : "abort ") + txn + " at " + me);
  }
}

sim::Task<void> coordinator(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId db,
                            std::vector<sim::ProcessId> banks, std::vector<std::string> names,
                            int transfers) {
  services::SqlClient sql(env, db, kSqlTimeout);
  for (int n = 1; n <= transfers; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 3'000'000));
    const std::string txn = "t-" + std::to_string(n);
    const std::string from = names[env.random() % names.size()];
    const std::int64_t amount = static_cast<std::int64_t>(env.random() % 20) + 1;
    history.invoke(0, "transfer", {{"txn", txn}, {"from", from}, {"amount", amount}});
    for (const auto b : banks) env.send(b, sim::make_payload<Prepare>(txn, from, amount));
    int yes = 0;
    bool no = false;
    const sim::Time deadline = env.now() + kVoteTimeout;
    while (yes < static_cast<int>(banks.size()) && !no) {
      const sim::Duration left = deadline - env.now();
      if (left <= 0) break;
      const auto m = co_await env.receive_for(left);
      if (!m) break;
      const auto* v = m->as<Vote>();
      if (!v || v->txn != txn) continue;
      if (v->yes) {
        ++yes;
      } else {
        no = true;
      }
    }
    const bool commit = yes == static_cast<int>(banks.size());
    // The decision is logged before anyone hears it (the log is what a participant may ask).
    const std::vector<services::SqlStatement> decide = {
        {"INSERT OR IGNORE INTO decisions (txn, outcome) VALUES (?1, ?2)",
         {txn, commit ? "commit" : "abort"},
         std::nullopt}};
    for (;;) {
      const auto r =
          co_await sql.transact(decide, "decide " + txn + (commit ? " commit" : " abort"));
      if (!r.timed_out && r.committed) break;
    }
    for (const auto b : banks) env.send(b, sim::make_payload<Decision>(txn, commit));
    history.complete(0, commit ? sim::OpType::kOk : sim::OpType::kFail, "transfer", txn);
  }
  co_await env.sleep(sim::milliseconds(100));  // let the participants apply the last decision
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"two_phase",
            "a coordinator moves money between two banks with two-phase commit",
            {"buggy", "fixed"},
            {{"transfer-atomic", "no transfer is committed at one bank and aborted at the other"}},
            {{"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE accounts (bank TEXT PRIMARY KEY, balance INTEGER NOT NULL, held INTEGER "
        "NOT NULL)",
        "CREATE TABLE parts (txn TEXT NOT NULL, bank TEXT NOT NULL, amount INTEGER NOT NULL, "
        "state TEXT NOT NULL, PRIMARY KEY (txn, bank))",
        "CREATE TABLE decisions (txn TEXT PRIMARY KEY, outcome TEXT NOT NULL)",
        "INSERT INTO accounts VALUES ('bank-a', 500, 0), ('bank-b', 500, 0)"};
    const auto db = services::add_sql_service(sim, "db", config);
    const std::vector<std::string> names = {"bank-a", "bank-b"};
    std::vector<sim::ProcessId> banks;
    for (const auto& name : names) {
      banks.push_back(sim.add_process(
          name, [d = db.process, fixed](sim::Env& env) { return participant(env, d, fixed); },
          {.crashable = false, .client = false, .pausable = false}));
    }
    auto& history = sim.history();
    const int transfers = sim.config().ops;
    sim.add_process("coordinator",
                    [&history, d = db.process, banks, names, transfers](sim::Env& env) {
                      return coordinator(env, history, d, banks, names, transfers);
                    },
                    {.crashable = false, .client = true, .pausable = true});
    sim.add_invariant(
        "transfer-atomic",
        sim::when_changed([truth = db.truth] { return truth->committed().size(); },
                          [truth = db.truth]() -> std::optional<sim::Finding> {
                            const auto rows = truth->query(
                                "SELECT c.txn, c.bank, a.bank FROM parts c JOIN parts a ON "
                                "c.txn = a.txn WHERE c.state = 'committed' AND a.state = "
                                "'aborted' LIMIT 1");
                            if (rows.empty()) return std::nullopt;
                            const auto txn = rows[0][0].get<std::string>();
                            return sim::Finding{"transfer " + txn + " committed at " +
                                                    rows[0][1].get<std::string>() +
                                                    " but aborted at " +
                                                    rows[0][2].get<std::string>(),
                                                {txn}};
                          }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// The commit of a transaction labelled `label` (the database's reply send), or nullptr.
const TraceEvent* committed(const Trace& trace, const std::string& label) {
  return find_first(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
        !payload(e).value("committed", false)) {
      return false;
    }
    const auto* req = request_send_for(trace, e);
    return req && payload(*req).value("label", "") == label;
  });
}

// From the message: the transfer T and the bank B that aborted it. B's yes vote for T (its
// send), the coordinator's logged commit decision ("decide T commit", its commit), B's receive
// timeout after the vote (where it gave up waiting), and B's abort ("abort T at B", its commit).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string txn = between(msg, "transfer ", " committed at ");
  const std::string bank = between(msg, " but aborted at ", "");
  if (txn.empty() || bank.empty()) return {};
  const auto* vote = find_first(trace, [&](const TraceEvent& e) {
    return e.kind == EventKind::kSend && e.type == "vote" && process_of(trace, e) == bank &&
           payload(e).value("txn", "") == txn && payload(e).value("yes", false);
  });
  const auto* decision = committed(trace, "decide " + txn + " commit");
  const auto* abort = committed(trace, "abort " + txn + " at " + bank);
  if (!vote || !decision || !abort) return {};
  const auto* timeout = find_first(
      trace,
      [&](const TraceEvent& e) {
        return e.kind == EventKind::kTimer && e.lane == vote->lane &&
               e.line.value("timer", "") == "receive_timeout";
      },
      vote->seq);
  std::vector<std::uint64_t> keys = {vote->seq, decision->seq};
  if (timeout && timeout->seq < abort->seq) keys.push_back(timeout->seq);
  keys.push_back(abort->seq);
  return keys;
}

}  // namespace two_phase

Design make_two_phase() {
  Design d;
  d.name = "two_phase";
  d.bug =
      "a two-phase-commit participant that voted yes aborts on its own when the decision is late, "
      "and the coordinator commits";
  d.system = std::make_unique<two_phase::System>();
  d.invariant = "transfer-atomic";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kPause};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"lost_response"};
  d.label.key_events = two_phase::key_events;
  return d;
}

}  // namespace seer::bench::explain
