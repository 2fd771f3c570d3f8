// oncall: doctors going off call, each checking that enough colleagues stay on call.
//
// Spec. Three shifts, each with three doctors on call (`doctors(name, shift, on_call)`, SQL).
// Doctors ask to go off call now and then and come back later. A doctor may go off call only if at
// least two doctors of the shift are on call (so one remains). Invariant `shift-covered`: every
// shift always has a doctor on call ("shift 2 has no doctor on call: dr2b went off call while dr2a
// was already off"). Operations (history): `off` and `on` per doctor.
//
// Bug (variant `buggy`): write skew. The doctor's app counts the shift's doctors on call in one
// transaction and, if two or more, takes the doctor off call in a second one. Two doctors of a
// shift with two on call both read 2, both go off call: nobody is on call.
// Fix (variant `fixed`): the check and the update are one guarded statement
// (`UPDATE ... WHERE ... AND (SELECT count(*) ...) >= 2`, expected to change one row).
// Faults: delay, reorder.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/sql.hpp"

namespace seer::bench::explain {

using seer::explain::EventKind;

namespace oncall {

constexpr int kShifts = 3;
constexpr int kPerShift = 3;
constexpr sim::Duration kTimeout = sim::milliseconds(50);

std::string doctor_name(int shift, int d) {
  return "dr" + std::to_string(shift) + static_cast<char>('a' + d);
}

sim::Task<void> doctor(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId db, bool fixed,
                       int process, int shift, int d, int requests) {
  services::SqlClient sql(env, db, kTimeout, nullptr, env.random());
  const std::string me = doctor_name(shift, d);
  for (int r = 0; r < requests; ++r) {
    co_await env.sleep(sim::milliseconds(2) +
                       static_cast<sim::Duration>(env.random() % 12'000'000));
    history.invoke(process, "off", me);
    bool off = false;
    if (fixed) {
      const std::vector<services::SqlStatement> guarded = {
          {"UPDATE doctors SET on_call = 0 WHERE name = ?1 AND on_call = 1 AND "
           "(SELECT count(*) FROM doctors WHERE shift = ?2 AND on_call = 1) >= 2",
           {me, shift},
           1}};
      const auto t = co_await sql.transact(guarded, "off " + me);
      off = !t.timed_out && t.committed;
    } else {
      const std::vector<services::SqlStatement> count = {
          {"SELECT count(*) FROM doctors WHERE shift = ?1 AND on_call = 1", {shift}, std::nullopt}};
      const auto c = co_await sql.transact(count, "count shift " + std::to_string(shift));
      if (!c.timed_out && c.committed && c.results[0][0][0].get<std::int64_t>() >= 2) {
        const std::vector<services::SqlStatement> update = {
            {"UPDATE doctors SET on_call = 0 WHERE name = ?1", {me}, std::nullopt}};
        const auto t = co_await sql.transact(update, "off " + me);
        off = !t.timed_out && t.committed;
      }
    }
    history.complete(process, off ? sim::OpType::kOk : sim::OpType::kFail, "off", me);
    if (!off) continue;
    // Off call for a while, then back.
    co_await env.sleep(sim::milliseconds(5) +
                       static_cast<sim::Duration>(env.random() % 20'000'000));
    history.invoke(process, "on", me);
    const std::vector<services::SqlStatement> back = {
        {"UPDATE doctors SET on_call = 1 WHERE name = ?1", {me}, std::nullopt}};
    while ((co_await sql.transact(back, "on " + me)).timed_out) {
    }
    history.complete(process, sim::OpType::kOk, "on", me);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"oncall",
            "doctors go off call if enough colleagues of their shift stay on call (SQL)",
            {"buggy", "fixed"},
            {{"shift-covered", "every shift always has a doctor on call"}},
            {{"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE doctors (name TEXT PRIMARY KEY, shift INTEGER NOT NULL, on_call INTEGER NOT "
        "NULL)"};
    for (int s = 1; s <= kShifts; ++s) {
      for (int d = 0; d < kPerShift; ++d) {
        config.schema.push_back("INSERT INTO doctors VALUES ('" + doctor_name(s, d) + "', " +
                                std::to_string(s) + ", 1)");
      }
    }
    const auto db = services::add_sql_service(sim, "db", config);
    auto& history = sim.history();
    const int doctors = kShifts * kPerShift;
    const int requests = std::max(1, sim.config().ops / doctors);
    int process = 0;
    for (int s = 1; s <= kShifts; ++s) {
      for (int d = 0; d < kPerShift; ++d, ++process) {
        sim.add_process(doctor_name(s, d),
                        [&history, p = db.process, fixed, process, s, d, requests](sim::Env& env) {
                          return doctor(env, history, p, fixed, process, s, d, requests);
                        },
                        {.crashable = false, .client = true});
      }
    }
    const auto truth = db.truth;
    auto checked = std::make_shared<std::size_t>(0);
    sim.add_invariant("shift-covered", [truth, checked]() -> std::optional<std::string> {
      if (*checked == truth->committed().size()) return std::nullopt;
      *checked = truth->committed().size();
      const auto rows = truth->query(
          "SELECT shift FROM doctors GROUP BY shift HAVING sum(on_call) = 0 ORDER BY shift "
          "LIMIT 1");
      if (rows.empty()) return std::nullopt;
      const auto shift = rows[0][0].get<std::int64_t>();
      // Name the shift's doctors: the one whose commit emptied it is the last to go off.
      const auto labels = truth->committed();
      std::string last;
      std::string before;
      for (auto it = labels.rbegin(); it != labels.rend(); ++it) {
        if (it->rfind("off dr" + std::to_string(shift), 0) != 0) continue;
        if (last.empty()) {
          last = it->substr(4);
        } else if (it->substr(4) != last) {
          before = it->substr(4);
          break;
        }
      }
      return "shift " + std::to_string(shift) + " has no doctor on call: " + last +
             " went off call while " + before + " was already off";
    });
  }
};

// Label. From the message: the doctor D whose commit emptied the shift, and the colleague C who
// went off before. The cause: D's count of the shift's doctors on call (the reply's delivery: the
// read D decided on), C's going off call (the database's reply send: the commit that made D's read
// outdated), and D's going off call (the commit decided on the outdated read).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string d = between(msg, " on call: ", " went off call while ");
  const std::string c = between(msg, " went off call while ", " was already off");
  if (d.empty() || c.empty()) return {};
  auto commit_of = [&](const std::string& who, std::uint64_t before) {
    return find_last(
        trace,
        [&](const TraceEvent& e) {
          if (e.kind != EventKind::kSend || e.type != "sql_reply" || process_of(trace, e) != "db" ||
              !payload(e).value("committed", false)) {
            return false;
          }
          const auto* req = request_send_for(trace, e);
          return req && payload(*req).value("label", "") == "off " + who;
        },
        before);
  };
  const auto until = violation_event(trace) + 1;
  const auto* d_commit = commit_of(d, until);
  if (!d_commit) return {};
  const auto* c_commit = commit_of(c, d_commit->seq);
  const auto* d_req = request_send_for(trace, *d_commit);
  const auto* read = find_last(
      trace,
      [&](const TraceEvent& e) {
        return e.lane == d_req->lane && e.kind == EventKind::kDeliver && e.type == "sql_reply";
      },
      d_req->seq);
  if (!c_commit || !read) return {};
  return {read->seq, c_commit->seq, d_commit->seq};
}

}  // namespace oncall

Design make_oncall() {
  Design d;
  d.name = "oncall";
  d.bug =
      "write skew: two doctors check the on-call count in one transaction and go off in another";
  d.system = std::make_unique<oncall::System>();
  d.invariant = "shift-covered";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kReorder};
  d.ops = 45;
  d.label.kinds = {"outdated_read"};
  d.label.key_events = oncall::key_events;
  return d;
}

}  // namespace seer::bench::explain
