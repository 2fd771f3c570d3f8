// job_dispatch: a scheduler that hands a job to another worker when an acceptance is late.
//
// Spec. A scheduler (`scheduler`) dispatches report jobs (`j-1`, `j-2`, ...) to two workers
// (`worker1`, `worker2`, the design's own processes and messages), alternating between them. A
// worker accepts a job at once (an `accepted` message carrying the assignment's request number),
// then runs it: the job's effect is one SQL transaction that records the run
// (`runs(job_id, worker)`), after which it tells the scheduler it is done. A worker handles one
// message at a time: assignments that arrive while it waits for a commit (up to its 500 ms SQL
// timeout) wait for it. The scheduler waits 10 ms for the acceptance; a worker that does not
// answer in time is taken to be down or overloaded.
// Invariant `job-runs-once`: no job runs twice ("job j-7 ran 2 times (worker1, worker2)").
// Operations (history): `dispatch` per job by the scheduler.
//
// Bug (variant `buggy`): on a missing acceptance the scheduler hands the job to the other worker.
// But the first worker may have accepted it: its acceptance was dropped by the network, or was
// still on its way (the worker was busy committing a run, or the link slow) when the scheduler
// gave up. Both workers run the job.
// Fix (variant `fixed`): on a missing acceptance the scheduler asks the same worker again with the
// same assignment, and a worker remembers the jobs it accepted and answers a repeated assignment
// without running it again. (Workers never crash in this design, so asking again always ends.)
// Faults: delay, drop.
//
// Label. `lost_response`: the acceptance of the worker whose answer the scheduler never got in
// time (sent when it took the job), where it was lost to the scheduler (the network's drop of it,
// or the scheduler's receive timeout while it was in flight or not yet sent), that worker's run
// commit (the write it made for the assignment), and the scheduler's reassignment of the job.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/sql.hpp"

#include <deque>
#include <memory>
#include <optional>
#include <set>

namespace seer::bench::explain {

namespace job_dispatch {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kWorkers = 2;
constexpr sim::Duration kAcceptTimeout = sim::milliseconds(10);
constexpr sim::Duration kSqlTimeout = sim::milliseconds(500);
constexpr int kMaxAttempts = 40;

struct Assign : sim::Payload {
  Assign(std::uint64_t r, std::string j) : req(r), job(std::move(j)) {}
  std::uint64_t req;
  std::string job;
  std::string_view type() const override { return "assign"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"job", job}}; }
};

struct Accepted : sim::Payload {
  Accepted(std::uint64_t r, std::string j) : req(r), job(std::move(j)) {}
  std::uint64_t req;
  std::string job;
  std::string_view type() const override { return "accepted"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"job", job}}; }
};

struct JobDone : sim::Payload {
  explicit JobDone(std::string j) : job(std::move(j)) {}
  std::string job;
  std::string_view type() const override { return "job_done"; }
  nlohmann::json to_json() const override { return {{"job", job}}; }
};

sim::Task<void> scheduler(sim::Env& env, sim::HistoryRecorder& history,
                          std::vector<sim::ProcessId> workers, int jobs, bool fixed) {
  std::uint64_t req = 0;
  for (int n = 1; n <= jobs; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 3'000'000));
    const std::string job = "j-" + std::to_string(n);
    history.invoke(0, "dispatch", job);
    std::size_t w = static_cast<std::size_t>(n) % workers.size();
    bool accepted = false;
    for (int attempt = 0; attempt < kMaxAttempts && !accepted; ++attempt) {
      if (attempt > 0 && !fixed) w = (w + 1) % workers.size();  // the other worker takes it
      const std::uint64_t r = ++req;
      env.send(workers[w], sim::make_payload<Assign>(r, job));
      const sim::Time deadline = env.now() + kAcceptTimeout;
      for (;;) {
        const sim::Duration left = deadline - env.now();
        if (left <= 0) break;
        const auto m = co_await env.receive_for(left);
        if (!m) break;
        const auto* a = m->as<Accepted>();
        if (a && a->req == r) {
          accepted = true;
          break;
        }
      }
    }
    history.complete(0, accepted ? sim::OpType::kOk : sim::OpType::kInfo, "dispatch", job,
                     accepted ? std::string() : std::string("no worker accepted"));
  }
}

sim::Task<void> worker(sim::Env& env, sim::ProcessId db, sim::ProcessId scheduler_id, bool fixed) {
  std::deque<sim::Message> inbox;  // assignments that arrive while a run commits
  services::SqlClient sql(env, db, kSqlTimeout, &inbox);
  const std::string me = env.name_of(env.self());
  std::set<std::string> taken;  // fixed: the jobs this worker accepted
  for (;;) {
    sim::Message m;
    if (!inbox.empty()) {
      m = std::move(inbox.front());
      inbox.pop_front();
    } else {
      m = co_await env.receive();
    }
    const auto* a = m.as<Assign>();
    if (!a) continue;
    const std::string job = a->job;
    env.send(m.from, sim::make_payload<Accepted>(a->req, job));
    if (fixed && !taken.insert(job).second) continue;  // already accepted: not run again
    const std::vector<services::SqlStatement> run = {
        {"INSERT INTO runs (job_id, worker) VALUES (?1, ?2)", {job, me}, 1}};
    const auto r = co_await sql.transact(run, "run " + job);
    if (!r.timed_out && r.committed) env.send(scheduler_id, sim::make_payload<JobDone>(job));
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"job_dispatch",
            "a scheduler dispatches jobs to two workers and reassigns a job whose acceptance is "
            "late",
            {"buggy", "fixed"},
            {{"job-runs-once", "no job runs twice"}},
            {{"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    services::SqlConfig config;
    config.schema = {
        "CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL, "
        "worker TEXT NOT NULL)"};
    const auto db = services::add_sql_service(sim, "db", config);
    // The scheduler is added last; the workers learn its id from a shared slot.
    auto scheduler_id = std::make_shared<sim::ProcessId>(sim::kNoProcess);
    std::vector<sim::ProcessId> workers;
    for (int w = 1; w <= kWorkers; ++w) {
      workers.push_back(sim.add_process("worker" + std::to_string(w),
                                        [d = db.process, scheduler_id, fixed](sim::Env& env) {
                                          return worker(env, d, *scheduler_id, fixed);
                                        },
                                        {.crashable = false, .client = false, .pausable = false}));
    }
    auto& history = sim.history();
    const int jobs = sim.config().ops;
    *scheduler_id = sim.add_process("scheduler",
                                    [&history, workers, jobs, fixed](sim::Env& env) {
                                      return scheduler(env, history, workers, jobs, fixed);
                                    },
                                    {.crashable = false, .client = true});
    sim.add_invariant(
        "job-runs-once",
        sim::when_changed([truth = db.truth] { return truth->committed().size(); },
                          [truth = db.truth]() -> std::optional<sim::Finding> {
                            const auto rows = truth->query(
                                "SELECT job_id, count(*), group_concat(worker, ', ') FROM runs "
                                "GROUP BY job_id HAVING count(*) > 1 ORDER BY max(id) LIMIT 1");
                            if (rows.empty()) return std::nullopt;
                            const auto job = rows[0][0].get<std::string>();
                            return sim::Finding{"job " + job + " ran " + rows[0][1].dump() +
                                                    " times (" + rows[0][2].get<std::string>() +
                                                    ")",
                                                {job}};
                          }));
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the job J. Each committed run of J (the database's reply send for "run J")
// and the worker W that ran it; the acceptance W sent right before starting that run (it carries
// the assignment's request number R); the scheduler's assignment R and its next assignment of J
// after it (the reassignment). The first run whose assignment the scheduler reassigned is the
// one whose acceptance was lost to it. The keys: W's acceptance (where the worker took the job
// and answered), where it was lost (the network's drop of it, else the scheduler's receive
// timeout after sending R), the run's commit (the write W made for it), and the reassignment.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = trace.violation().value("message", "");
  const std::string head = "job ";
  const auto end = msg.find(" ran ");
  if (msg.rfind(head, 0) != 0 || end == std::string::npos) return {};
  const std::string job = msg.substr(head.size(), end - head.size());
  for (const auto& e : trace.events) {
    if (e.kind != EventKind::kSend || e.type != "sql_reply" ||
        !payload(e).value("committed", false)) {
      continue;
    }
    const auto* run = request_send_for(trace, e);
    if (!run || payload(*run).value("label", "") != "run " + job) continue;
    const TraceEvent* accept = nullptr;
    for (std::uint64_t s = run->seq; s-- > 1;) {
      const auto& a = trace.at(s);
      if (a.kind == EventKind::kSend && a.lane == run->lane && a.type == "accepted" &&
          payload(a).value("job", "") == job) {
        accept = &a;
        break;
      }
    }
    if (!accept) continue;
    const auto req = payload(*accept).value("req", std::uint64_t{0});
    const TraceEvent* assign = nullptr;
    const TraceEvent* reassign = nullptr;
    for (const auto& a : trace.events) {
      if (a.kind != EventKind::kSend || a.type != "assign" || a.lane != accept->peer ||
          payload(a).value("job", "") != job) {
        continue;
      }
      if (!assign) {
        if (payload(a).value("req", std::uint64_t{0}) == req) assign = &a;
      } else {
        reassign = &a;
        break;
      }
    }
    if (!assign || !reassign) continue;
    const TraceEvent* lost_at = nullptr;
    for (std::uint64_t s = accept->seq + 1; s <= trace.events.size(); ++s) {
      const auto& d = trace.at(s);
      if (d.kind == EventKind::kDrop && d.message == accept->message) {
        lost_at = &d;
        break;
      }
    }
    if (!lost_at) {
      for (std::uint64_t s = assign->seq + 1; s < reassign->seq; ++s) {
        const auto& t = trace.at(s);
        if (t.kind == EventKind::kTimer && t.lane == assign->lane &&
            t.line.value("timer", "") == "receive_timeout") {
          lost_at = &t;
          break;
        }
      }
    }
    std::vector<std::uint64_t> keys = {accept->seq};
    if (lost_at) keys.push_back(lost_at->seq);
    keys.push_back(e.seq);
    keys.push_back(reassign->seq);
    return keys;
  }
  return {};
}

}  // namespace job_dispatch

Design make_job_dispatch() {
  Design d;
  d.name = "job_dispatch";
  d.bug =
      "a scheduler hands a job to the other worker when the first worker's acceptance is lost or "
      "late, and both run it";
  d.system = std::make_unique<job_dispatch::System>();
  d.invariant = "job-runs-once";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kDrop};
  d.ops = 50;
  d.held_out = true;
  d.label.kinds = {"lost_response"};
  d.label.key_events = job_dispatch::key_events;
  return d;
}

}  // namespace seer::bench::explain
