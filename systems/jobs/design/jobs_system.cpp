// Jobs through an at-least-once queue: a producer enqueues jobs, two consumers run each job's
// external side effect (think "charge the card") and ack. The oracle counts effects per job.
#include "jobs_system.hpp"

#include "seer/services/kv.hpp"
#include "seer/services/queue.hpp"

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace seer::systems::jobs {

namespace {

constexpr int kConsumers = 2;
constexpr sim::Duration kTimeout = sim::milliseconds(50);

enum class Strategy {
  kNaive,        // receive, run the effect, ack
  kLocalDedupe,  // each consumer remembers (on its disk) the jobs it ran and skips repeats
  kClaim,        // claim the job in the KV store (create-if-absent) before running the effect
};

struct Oracle {
  std::map<std::int64_t, int> effects;  // job -> times its side effect ran
  std::int64_t twice = -1;              // the first job whose effect ran twice
  std::vector<std::int64_t> enqueued;   // jobs the queue acknowledged, in order
  std::map<std::int64_t, int> handed;   // job -> times a consumer received it
  // Acknowledged jobs whose effect has not run yet (the liveness check runs after every event of
  // the heal phase: walking `enqueued` each time made long runs quadratic). Jobs are enqueued in
  // increasing order, so the first of these is the first in `enqueued`.
  std::set<std::int64_t> awaiting;
};

// Liveness: every acknowledged job's effect runs. What is still awaited names the first job that
// never ran and how often consumers were handed it (each time skipping it, or crashing first).
std::optional<sim::Finding> job_never_ran(const Oracle& oracle) {
  if (oracle.awaiting.empty()) return std::nullopt;
  const auto missing = oracle.awaiting.size();
  const std::int64_t first = *oracle.awaiting.begin();
  const auto handed = oracle.handed.count(first) ? oracle.handed.at(first) : 0;
  std::string text = "job " + std::to_string(first) +
                     "'s side effect never ran (enqueued and acknowledged; handed to a consumer " +
                     std::to_string(handed) + " time(s))";
  if (missing > 1) text += "; " + std::to_string(missing - 1) + " other job(s) never ran either";
  // The job as the run's data names it: its claim's key in the KV store.
  return sim::Finding{std::move(text), {"job/" + std::to_string(first)}};
}

sim::Task<void> produce(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId queue,
                        int jobs, std::shared_ptr<Oracle> oracle) {
  services::QueueClient q(env, queue, kTimeout);
  for (int job = 1; job <= jobs; ++job) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 2'000'000));
    history.invoke(0, "enqueue", job);
    // At-least-once producing: retry until acknowledged (a lost response means a duplicate job).
    for (;;) {
      nlohmann::json body;
      body["job"] = job;
      const auto sent = co_await q.enqueue(std::move(body));
      if (!sent.timed_out) break;
    }
    history.complete(0, sim::OpType::kOk, "enqueue", job);
    oracle->enqueued.push_back(job);
    if (!oracle->effects.count(job)) oracle->awaiting.insert(job);
  }
  co_await env.sleep(sim::seconds(2));  // let the consumers drain the queue before the run ends
}

sim::Task<void> consume(sim::Env& env, sim::ProcessId queue, sim::ProcessId kv_store,
                        Strategy strategy, std::shared_ptr<Oracle> oracle) {
  // A consumer may crash: each life numbers its requests from a random start, so a late reply to
  // the previous life's request (an ack's, say) is never taken for the answer to this life's.
  services::QueueClient q(env, queue, kTimeout, nullptr, env.random());
  services::KvClient kv(env, kv_store, kTimeout, nullptr, env.random());
  for (;;) {
    const auto got = co_await q.receive();
    if (got.timed_out) continue;
    if (!got.found) {
      co_await env.sleep(sim::milliseconds(5));
      continue;
    }
    const std::int64_t job = got.body.at("job").get<std::int64_t>();
    ++oracle->handed[job];
    bool run = true;
    if (strategy == Strategy::kLocalDedupe) {
      const std::string key = "done/" + std::to_string(job);
      run = !env.storage().get(key).has_value();
      if (run) {
        env.storage().put(key, "1");
        co_await env.sync();
      }
    } else if (strategy == Strategy::kClaim) {
      auto claim = co_await kv.create("job/" + std::to_string(job), env.self());
      // A timed-out claim may have succeeded: ask again; a conflict then may be our own claim, so
      // the effect is skipped (at most once, never twice).
      while (claim.timed_out) claim = co_await kv.create("job/" + std::to_string(job), env.self());
      run = claim.ok();
    }
    if (run) {
      // The external side effect: simulation bookkeeping stands in for the outside world.
      if (++oracle->effects[job] == 2 && oracle->twice < 0) oracle->twice = job;
      oracle->awaiting.erase(job);
    }
    co_await q.ack(got.message_id);  // a lost ack only means a redelivery
  }
}

Strategy strategy_of(const std::string& variant) {
  if (variant == "naive") return Strategy::kNaive;
  if (variant == "local-dedupe") return Strategy::kLocalDedupe;
  return Strategy::kClaim;
}

class JobsSystem final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"jobs",
            "a producer enqueues jobs on an at-least-once queue; two consumers run each job's side "
            "effect",
            {"naive", "local-dedupe", "claim"},
            {{"effect-at-most-once", "no job's side effect runs twice"}},
            {{"queue", {"at-least-once"}}, {"kv", services::kv_implementations()}},
            {},
            {},
            {{"every-job-runs",
              "within 2 s of the heal, every job the queue acknowledged has had its side effect "
              "run"}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const auto queue = services::add_queue_service(sim, "queue");
    const auto kv =
        services::add_kv_service(sim, "kv", services::kv_config(sim.config().service_or("kv")));
    auto oracle = std::make_shared<Oracle>();
    const auto strategy = strategy_of(variant);
    for (int c = 0; c < sim.config().clients_or(kConsumers); ++c) {
      sim.add_process("consumer" + std::to_string(c + 1),
                      [q = queue.process, k = kv.process, strategy, oracle](sim::Env& env) {
                        return consume(env, q, k, strategy, oracle);
                      });
    }
    auto& history = sim.history();
    const int jobs = sim.config().ops;
    sim.add_process("producer",
                    [&history, q = queue.process, jobs, oracle](sim::Env& env) {
                      return produce(env, history, q, jobs, oracle);
                    },
                    {.crashable = false, .client = true});
    sim.add_invariant("effect-at-most-once", [oracle]() -> std::optional<std::string> {
      if (oracle->twice < 0) return std::nullopt;
      return "job " + std::to_string(oracle->twice) + "'s side effect ran twice";
    });
    sim.add_liveness("every-job-runs", sim::seconds(2),
                     [oracle] { return job_never_ran(*oracle); });
  }
};

}  // namespace

std::unique_ptr<sim::System> make_jobs_system() {
  return std::make_unique<JobsSystem>();
}

}  // namespace seer::systems::jobs
