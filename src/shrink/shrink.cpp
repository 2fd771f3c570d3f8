#include "seer/shrink/shrink.hpp"

#include "ddmin.hpp"
#include "schedule_subset.hpp"

#include <chrono>
#include <stdexcept>

namespace seer::shrink {

namespace {

using Schedule = std::shared_ptr<const sim::FaultSchedule>;

// Latencies are many (one per message) and often each matters a little to the timing; finding a
// 1-minimal set would cost a replay per latency. Refining to 32 chunks removes most of what can go.
constexpr std::size_t kLatencyChunks = 32;

class Shrinker {
 public:
  Shrinker(const sim::System& system, std::string variant, sim::RunConfig base,
           std::string invariant, const ShrinkOptions& options,
           const std::function<void(const ShrinkProgress&)>& progress)
      : system_(system),
        variant_(std::move(variant)),
        base_(std::move(base)),
        invariant_(std::move(invariant)),
        options_(options),
        progress_(progress),
        started_(std::chrono::steady_clock::now()),
        clients_(base_.clients) {}

  bool exhausted() {
    if (exhausted_) return true;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    exhausted_ = runs_ >= options_.max_runs || elapsed >= options_.time_limit_s;
    return exhausted_;
  }

  // Replays `ops` client operations under `schedule`. On the same violation, returns the schedule
  // of what the replay actually decided (decisions that never came up are gone).
  std::shared_ptr<sim::FaultSchedule> fails(int ops, Schedule schedule) {
    if (exhausted()) return nullptr;
    ++runs_;
    auto config = base_;
    config.ops = ops;
    config.clients = clients_;
    config.lenient_schedule = true;
    config.schedule = std::move(schedule);
    config.record_schedule = true;
    config.record_trace = false;
    auto r = sim::run_system(system_, variant_, config);
    if (!r.violation || r.violation->invariant != invariant_) return nullptr;
    // Never trade a fault for a longer story: the run must also not grow.
    if (r.events > events_) return nullptr;
    events_ = r.events;
    last_input_ = config.schedule;
    last_ops_ = ops;
    last_clients_ = clients_;
    return std::move(r.schedule);
  }

  void report(int ops, const sim::FaultSchedule& s) {
    if (progress_) progress_({runs_, ops, s.fault_count(), s.latencies.size()});
  }

  // Fewer clients, trying the fewest first. `upper` bounds the system's default.
  bool shrink_clients(int upper, int ops, Schedule& current, std::vector<ShrinkStep>& steps) {
    const int before = clients_ > 0 ? clients_ : upper;
    for (int k = 1; k < before; ++k) {
      const int saved = clients_;
      clients_ = k;
      if (auto smaller = fails(ops, current)) {
        current = std::move(smaller);
        report(ops, *current);
        steps.push_back({"clients", static_cast<std::size_t>(before), static_cast<std::size_t>(k)});
        return true;
      }
      clients_ = saved;
    }
    return false;
  }
  int clients() const { return clients_; }

  // Fewer client operations: remove chunks of halving size from the end of the workload.
  bool shrink_ops(int& ops, Schedule& current, std::vector<ShrinkStep>& steps) {
    const int before = ops;
    for (int step = ops / 2; step >= 1; step /= 2) {
      while (ops - step >= 1) {
        auto smaller = fails(ops - step, current);
        if (!smaller) break;
        ops -= step;
        current = std::move(smaller);
        report(ops, *current);
      }
    }
    if (ops == before) return false;
    steps.push_back({"ops", static_cast<std::size_t>(before), static_cast<std::size_t>(ops)});
    return true;
  }

  // ddmin over one kind of deviation; `subset` builds the candidate for kept indices.
  bool shrink_deviations(const char* what, int ops, Schedule& current, std::size_t count,
                         sim::FaultSchedule (*subset)(const sim::FaultSchedule&,
                                                      const std::vector<std::size_t>&),
                         std::size_t max_chunks, std::vector<ShrinkStep>& steps) {
    if (count == 0) return false;
    const auto base = current;
    std::shared_ptr<sim::FaultSchedule> last_ok;
    const auto kept = ddmin(
        count,
        [&](const std::vector<std::size_t>& keep) {
          auto ok = fails(ops, std::make_shared<sim::FaultSchedule>(subset(*base, keep)));
          if (!ok) return false;
          last_ok = std::move(ok);
          report(ops, *last_ok);
          return true;
        },
        [&] { return exhausted(); }, max_chunks);
    if (kept.size() == count || !last_ok) return false;
    steps.push_back({what, count, kept.size()});
    current = std::move(last_ok);
    return true;
  }

  std::size_t runs() const { return runs_; }
  // The last schedule given to a replay that failed, and its ops.
  const Schedule& last_input() const { return last_input_; }
  int last_ops() const { return last_ops_; }
  int last_clients() const { return last_clients_; }
  bool stopped() const { return exhausted_; }

 private:
  const sim::System& system_;
  std::string variant_;
  sim::RunConfig base_;
  std::string invariant_;
  ShrinkOptions options_;
  const std::function<void(const ShrinkProgress&)>& progress_;
  std::chrono::steady_clock::time_point started_;
  int clients_ = 0;  // 0: the system's default
  std::size_t runs_ = 0;
  bool exhausted_ = false;
  Schedule last_input_;
  int last_ops_ = 0;
  int last_clients_ = 0;
  std::uint64_t events_ = UINT64_MAX;  // of the smallest failing run so far
};

}  // namespace

ShrinkResult shrink_run(const sim::System& system, const std::string& variant,
                        const sim::RunConfig& config, const ShrinkOptions& options,
                        const std::function<void(const ShrinkProgress&)>& progress) {
  const auto started = std::chrono::steady_clock::now();
  ShrinkResult out;
  out.original = config;
  auto recording = config;
  recording.record_schedule = true;
  out.original_result = sim::run_system(system, variant, recording);
  const auto& first = out.original_result;
  if (!first.violation) return out;
  out.failing = true;
  out.invariant = first.violation->invariant;
  out.original_faults = first.schedule->fault_count();
  out.original_latencies = first.schedule->latencies.size();

  Shrinker shrinker(system, variant, config, out.invariant, options, progress);
  Schedule current = first.schedule;
  int ops = config.ops;
  // The recorded schedule replays the seeded run exactly; anything else is a simulator bug.
  if (!shrinker.fails(ops, current)) {
    throw std::logic_error("the recorded fault schedule did not reproduce the violation");
  }
  // Rounds until nothing shrinks: removing a fault can make fewer ops suffice, and the other way.
  // An upper bound on the clients: the processes named client*, consumer*, writer* (a system
  // ignores counts at or above its own default, so a loose bound only costs a few runs).
  int upper = 0;
  for (const auto& name : first.process_names) {
    for (const char* prefix : {"client", "consumer", "writer"}) {
      if (name.rfind(prefix, 0) == 0) ++upper;
    }
  }
  for (int round = 0; round < 4 && !shrinker.stopped(); ++round) {
    bool changed = shrinker.shrink_clients(upper, ops, current, out.steps);
    changed |= shrinker.shrink_ops(ops, current, out.steps);
    changed |= shrinker.shrink_deviations("faults", ops, current, current->fault_count(),
                                          &with_faults, SIZE_MAX, out.steps);
    changed |= shrinker.shrink_deviations("latencies", ops, current, current->latencies.size(),
                                          &with_latencies, kLatencyChunks, out.steps);
    if (!changed) break;
  }

  out.shrunk = config;
  out.shrunk.ops = ops;
  out.shrunk.clients = shrinker.clients();
  out.shrunk.schedule = current;
  out.shrunk.record_schedule = false;
  out.shrunk_result = sim::run_system(system, variant, out.shrunk);
  std::size_t final_runs = 1;
  const auto& v = out.shrunk_result.violation;
  if (!v || v->invariant != out.invariant) {
    // The normalised schedule replayed differently (two events tied in time and were queued in
    // another order); fall back to the schedule that was replayed and failed.
    out.shrunk.ops = shrinker.last_ops();
    out.shrunk.clients = shrinker.last_clients();
    out.shrunk.schedule = shrinker.last_input();
    out.shrunk.lenient_schedule = true;  // it may name clients this run no longer has
    out.shrunk_result = sim::run_system(system, variant, out.shrunk);
    ++final_runs;
  }
  out.runs = shrinker.runs() + final_runs;
  out.budget_exhausted = shrinker.stopped();
  out.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return out;
}

}  // namespace seer::shrink
