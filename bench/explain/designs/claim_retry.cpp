// claim_retry: two workers claim report jobs in the KV store; a retried claim's conflict is taken
// for the other worker's claim.
//
// Spec. Two workers (`worker1`, `worker2`) go through the same list of nightly report jobs
// (`j-1`, `j-2`, ...). A job runs once: a worker claims it with a create-if-absent of
// `claims/j-N` = {worker} in the KV store (etcd's `create`, a transaction on the key's absence)
// and the worker whose create succeeds runs it (one SQL transaction that records the run,
// `runs(job, worker)`); a worker whose create finds the key taken skips the job, the other worker
// has it. A claim that gets no answer within 6 ms (the KV store is one round trip away) is sent
// again until it is answered.
// Invariant `every-claimed-job-runs` (checked once the workers are done): a job that was claimed
// ran ("job j-7 was claimed by worker2 and never ran").
// Operations (history): `claim` per job and worker.
//
// Bug (variant `buggy`): a conflict is read as "the other worker has it". But a claim whose
// answer was lost (the store's response lost, the network's drop of the reply) or late (still on
// its way at the timeout) had been applied: the retry finds the worker's own claim and conflicts
// with it. Both workers skip the job and it never runs.
// Fix (variant `fixed`): on a conflict the worker reads the claim (a linearizable get) and runs
// the job when the claim is its own.
// Faults: delay, drop, lost-response.
//
// Label. `lost_response`: the claim that took effect without its worker learning it (the store's
// reply send, or its `lost_response` note when the reply never left), where it was lost (the
// network's drop of the reply, the note, else the worker's receive timeout while the reply was on
// its way), and the worker's retry of the claim (the create it sent next for the same key).
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"
#include "seer/services/sql.hpp"

#include <memory>
#include <optional>

namespace seer::bench::explain {

namespace claim_retry {

using seer::explain::EventKind;
using seer::explain::Trace;
using seer::explain::TraceEvent;

constexpr int kWorkers = 2;
constexpr sim::Duration kKvTimeout = sim::milliseconds(6);
constexpr sim::Duration kSqlTimeout = sim::milliseconds(50);

std::string job_name(int n) {
  return "j-" + std::to_string(n);
}

// Records the run; a timed-out run is sent again (the job id is the key, so a repeat is a no-op).
sim::Task<void> run_job(services::SqlClient& sql, const std::string& job, const std::string& me) {
  for (;;) {
    const std::vector<services::SqlStatement> run = {
        {"INSERT OR IGNORE INTO runs (job, worker) VALUES (?1, ?2)", {job, me}, std::nullopt}};
    const auto r = co_await sql.transact(run, "run " + job);
    if (!r.timed_out && r.committed) co_return;
  }
}

sim::Task<void> worker(sim::Env& env, sim::HistoryRecorder& history, int index,
                       sim::ProcessId kv_id, sim::ProcessId db, int jobs, bool fixed) {
  services::KvClient kv(env, kv_id, kKvTimeout);
  services::SqlClient sql(env, db, kSqlTimeout);
  const std::string me = env.name_of(env.self());
  for (int n = 1; n <= jobs; ++n) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 2'000'000));
    const std::string job = job_name(n);
    const std::string key = "claims/" + job;
    history.invoke(index, "claim", job);
    const nlohmann::json claim = {{"worker", me}};
    services::KvResult r;
    do {
      r = co_await kv.create(key, claim);
    } while (r.timed_out);
    bool mine = r.ok();
    if (!mine && fixed) {
      // The conflict may be our own earlier attempt, applied though its answer never came.
      services::KvResult owner;
      do {
        owner = co_await kv.get(key, services::KvRead::kLinearizable);
      } while (owner.timed_out);
      mine = owner.ok() && owner.value.value("worker", "") == me;
    }
    if (mine) co_await run_job(sql, job, me);
    const nlohmann::json outcome = {{"job", job}, {"ran", mine}};
    history.complete(index, sim::OpType::kOk, "claim", outcome);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"claim_retry",
            "two workers claim jobs with a create-if-absent in the KV store, retrying a claim that "
            "got no answer",
            {"buggy", "fixed"},
            {{"every-claimed-job-runs", "a claimed job runs"}},
            {{"kv", {"linearizable"}}, {"sql", {"sqlite"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(sim, "kv", services::kv_config("linearizable"));
    services::SqlConfig config;
    config.schema = {"CREATE TABLE runs (job TEXT PRIMARY KEY, worker TEXT NOT NULL)"};
    const auto db = services::add_sql_service(sim, "db", config);
    auto& history = sim.history();
    const int jobs = sim.config().ops;
    for (int w = 1; w <= kWorkers; ++w) {
      sim.add_process("worker" + std::to_string(w),
                      [&history, w, k = kv.process, d = db.process, jobs, fixed](sim::Env& env) {
                        return worker(env, history, w - 1, k, d, jobs, fixed);
                      },
                      {.crashable = false, .client = true});
    }
    sim.add_final_check(
        "every-claimed-job-runs",
        [truth = kv.truth, db = db.truth, jobs]() -> std::optional<sim::Finding> {
          for (int n = 1; n <= jobs; ++n) {
            const std::string job = job_name(n);
            const auto& claim = truth->latest("claims/" + job);
            if (!claim.exists) continue;
            const auto rows =
                db->query(services::SqlStatement{"SELECT 1 FROM runs WHERE job = ?1", {job}, {}});
            if (!rows.empty()) continue;
            return sim::Finding{"job " + job + " was claimed by " +
                                    claim.encoded().value("worker", "?") + " and never ran",
                                {job}};
          }
          return std::nullopt;
        });
  }
};

// --- Label -------------------------------------------------------------------------------------

// From the message: the job J and its claimer W. Only one create of `claims/J` was applied: W's.
// Where it took effect: the store's `kv_reply` send to W with status ok for a create of the key,
// else the service's `lost_response` note of an applied create of the key (the reply never left).
// The claim is W's create with that request number (the latest before it); the retry is the
// create W sent next for the key. Where the answer was lost: the network's drop of the reply,
// else the note, else W's receive timeout between the claim and the retry.
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string job = between(msg, "job ", " was claimed by ");
  const std::string who = between(msg, " was claimed by ", " and never ran");
  if (job.empty() || who.empty()) return {};
  const std::string key = "claims/" + job;
  const int lane = lane_of(trace, who);
  const auto is_create = [&](const TraceEvent& e) {
    return e.lane == lane && e.kind == EventKind::kSend && e.type == "kv_request" &&
           payload(e).value("op", "") == "create" && payload(e).value("key", "") == key;
  };
  const TraceEvent* effect = nullptr;
  const TraceEvent* claim = nullptr;
  for (const auto& e : trace.events) {
    if (e.kind == EventKind::kSend && e.type == "kv_reply" && e.peer == lane &&
        payload(e).value("status", "") == "ok") {
      const auto* request = request_send_for(trace, e);
      if (request && is_create(*request)) {
        effect = &e;
        claim = request;
        break;
      }
    }
    if (e.kind == EventKind::kAnnotation) {
      const std::string text = e.line.dump();
      if (text.find("lost_response") == std::string::npos ||
          text.find("\"key\":\"" + key + "\"") == std::string::npos ||
          text.find("\"applied\":true") == std::string::npos) {
        continue;
      }
      claim = find_last(trace, is_create, e.seq);
      if (claim) {
        effect = &e;
        break;
      }
    }
  }
  if (!effect || !claim) return {};
  const auto* retry = find_first(trace, is_create, claim->seq);
  if (!retry) return {};
  std::vector<std::uint64_t> keys = {effect->seq};
  const TraceEvent* lost_at = nullptr;
  if (effect->kind == EventKind::kSend) {
    lost_at = find_first(
        trace,
        [&](const TraceEvent& e) {
          return e.kind == EventKind::kDrop && e.message == effect->message;
        },
        effect->seq);
    if (lost_at && lost_at->seq > retry->seq) lost_at = nullptr;
    if (!lost_at) {
      lost_at = find_first(
          trace,
          [&](const TraceEvent& e) {
            return e.lane == lane && e.kind == EventKind::kTimer && e.seq < retry->seq &&
                   e.line.value("timer", "") == "receive_timeout";
          },
          claim->seq);
    }
  }
  if (lost_at) keys.push_back(lost_at->seq);
  keys.push_back(retry->seq);
  return keys;
}

}  // namespace claim_retry

Design make_claim_retry() {
  Design d;
  d.name = "claim_retry";
  d.bug =
      "a claim (create-if-absent) whose answer was lost is retried, and the retry's conflict with "
      "the worker's own claim is taken for the other worker's: nobody runs the job";
  d.system = std::make_unique<claim_retry::System>();
  d.invariant = "every-claimed-job-runs";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kDrop, sim::FaultKind::kLostResponse};
  d.ops = 40;
  d.held_out = true;
  d.label.kinds = {"lost_response"};
  d.label.key_events = claim_retry::key_events;
  return d;
}

}  // namespace seer::bench::explain
