// The event loop: pop the earliest event (ties broken by insertion order), execute it, check
// invariants.
#include "process_env.hpp"
#include "seer/assert.hpp"

#include <algorithm>
#include <stdexcept>

namespace seer::sim {

namespace {
enum Stream : std::uint64_t {
  kNetwork = 1,
  kFaults = 2,
  kProcesses = 3,
  kWorkload = 4,
  kServiceFaults = 5,
  kPauseRaces = 6
};
}

std::optional<std::string> DiskView::current(const std::string& key) const {
  for (auto it = pending->rbegin(); it != pending->rend(); ++it) {
    if (it->first == key) return it->second;
  }
  auto it = durable->find(key);
  if (it == durable->end()) return std::nullopt;
  return it->second;
}

Simulator::Impl::Impl(Simulator& s, const RunConfig& c)
    : sim(s),
      config(c),
      net_prng(Prng(c.seed).fork(kNetwork)),
      fault_prng(Prng(c.seed).fork(kFaults)),
      process_prng(Prng(c.seed).fork(kProcesses)),
      pause_race_prng(Prng(c.seed).fork(kPauseRaces)),
      decisions(c.schedule, c.record_schedule, c.lenient_schedule),
      hash(c.hash_function) {}

Simulator::Impl::~Impl() {
  // Destroy coroutine frames before the Envs they reference.
  for (auto& slot : processes) slot.root.reset();
}

void Simulator::Impl::record(TraceEvent& e) {
  for (auto& annotate : annotators) annotate(e);
  if (trace_names.size() != processes.size()) {  // processes are only ever added, never renamed
    trace_names.clear();
    for (const auto& p : processes) trace_names.push_back(p.name);
  }
  trace_lines.push_back(event_to_line(e, trace_names));
}

Time Simulator::Impl::local_time(const ProcessSlot& slot) const {
  const Time t = sim.now_;
  return t + slot.clock_offset + t * slot.clock_drift_ppm / 1'000'000;
}

Duration Simulator::Impl::true_duration(const ProcessSlot& slot, Duration local) const {
  if (local <= 0) return 0;
  // A fast clock (positive drift) makes local durations pass sooner in true time. Round up and wait
  // at least 1ns: a wait that rounds to zero would let a retry loop spin without time ever
  // advancing.
  const std::int64_t rate = 1'000'000 + slot.clock_drift_ppm;
  return std::max<Duration>(1, (local * 1'000'000 + rate - 1) / rate);
}

std::uint64_t Simulator::Impl::schedule_wake(ProcessId id, Duration true_delay) {
  QueuedEvent& q = queue.add(now_plus(true_delay), Scheduled::kWake);  // built in place
  q.process = id;
  q.incarnation = processes[id].incarnation;
  q.token = next_token++;
  return q.token;
}

void Simulator::Impl::on_wake(const QueuedEvent& q) {
  SEER_ASSERT(q.process >= 0 && static_cast<std::size_t>(q.process) < processes.size(),
              "a timer's process index is in range");
  auto& slot = processes[q.process];
  if (!slot.up || slot.incarnation != q.incarnation || slot.wait_token != q.token) return;
  if (slot.wait == Wait::kNone) return;
  if (slot.paused) {
    slot.wake_while_paused = true;
    return;
  }
  fire_wake(q.process);
}

void Simulator::Impl::fire_wake(ProcessId id) {
  auto& slot = processes[id];
  SEER_ASSERT(slot.up && !slot.paused, "a timer fires on a running process");
  SEER_ASSERT(slot.wait == Wait::kNone || slot.waiter, "a waiting process has a waiter");
  auto pooled_e = make_event(id, EventKind::kTimer);
  auto& e = *pooled_e;
  e.cause = slot.wait_cause;
  e.site = slot.wait_site;
  switch (slot.wait) {
    case Wait::kReceive:
      if (sim.tracing()) e.detail = {{"timer", "receive_timeout"}};
      break;
    case Wait::kSleep:
      if (sim.tracing()) e.detail = {{"timer", "sleep"}};
      break;
    case Wait::kSync: {
      e.kind = EventKind::kStorageSync;
      const auto n = slot.disk.sync();
      if (sim.tracing()) e.detail = {{"writes_made_durable", n}};
      break;
    }
    case Wait::kNone:
      return;
  }
  emit(e);
  slot.wait = Wait::kNone;
  slot.wait_token = 0;
  resume(id);
}

void Simulator::Impl::start_process(ProcessId id, EventKind why) {
  auto& slot = processes[id];
  slot.up = true;
  // A client that had returned (and crashed since) runs again: it counts as running until it
  // returns again, or the run would end with it still running (or never, when the count went
  // below zero).
  if (slot.options.client && slot.finished) ++clients_running;
  slot.finished = false;
  slot.wait = Wait::kNone;
  auto pooled_e = make_event(id, why);
  auto& e = *pooled_e;
  if (sim.tracing()) {
    e.detail = {{"incarnation", slot.incarnation}};
    // Forbidden facts: how wrong this process's clock is.
    e.oracle = {{"clock_offset_ns", slot.clock_offset}, {"clock_drift_ppm", slot.clock_drift_ppm}};
  }
  emit(e);
  slot.root = slot.factory(*slot.env);
  slot.waiter = slot.root.handle();
  resume(id);
}

void Simulator::Impl::resume(ProcessId id) {
  SEER_ASSERT(id >= 0 && static_cast<std::size_t>(id) < processes.size(),
              "a resumed process's index is in range");
  auto& slot = processes[id];
  SEER_ASSERT(slot.up, "only a process that is up resumes");
  SEER_ASSERT(slot.waiter, "a resumed process has a waiter");
  SEER_ASSERT(slot.wait == Wait::kNone, "a process resumes only once its wait is over");
  const auto previous = current;
  current = id;
  auto h = slot.waiter;
  slot.waiter = nullptr;
  h.resume();
  current = previous;
  after_resume(id);
}

void Simulator::Impl::after_resume(ProcessId id) {
  auto& slot = processes[id];
  if (slot.finished || !slot.root.done()) return;
  slot.finished = true;
  if (slot.options.client) --clients_running;
  try {
    slot.root.rethrow_if_failed();
  } catch (const std::exception& ex) {
    if (!violation) {
      violation = Violation{"no-uncaught-exception", slot.name + " threw: " + ex.what(),
                            next_seq - 1, sim.now_};
    }
  }
}

void Simulator::Impl::check_invariants() {
  if (violation) return;
  // After every event: the loop only asks, fail() records (out of line, so that the loop keeps
  // few registers to save).
  for (auto& inv : invariants) {
    if (inv.single) {
      if (auto failure = inv.single()) [[unlikely]] {
        fail(inv.names.front(), std::move(*failure));
        return;
      }
      continue;
    }
    if (auto failure = inv.set()) [[unlikely]] {
      SEER_ASSERT(failure->index < inv.names.size(),
                  "a failed invariant of a set is one of its names");
      fail(inv.names[failure->index], std::move(failure->finding));
      return;
    }
  }
}

void Simulator::Impl::fail(const std::string& invariant, Finding&& finding) {
  violation = Violation{invariant, std::move(finding.text),    next_seq - 1, sim.now_,
                        false,     std::move(finding.entities)};
}

void Simulator::Impl::check_final() {
  for (auto& check : final_checks) {
    if (violation) return;
    auto failure = check.check();
    if (failure) {
      violation = Violation{check.name, std::move(failure->text),    next_seq - 1, sim.now_,
                            false,      std::move(failure->entities)};
    }
  }
}

void Simulator::Impl::invoke(int process, const std::string& f, nlohmann::json value) {
  invoke_read(process, f, std::move(value), nullptr);
}

void Simulator::Impl::invoke_read(int process, const std::string& f, nlohmann::json value,
                                  std::shared_ptr<const check::InputReading> reading) {
  auto pooled_e = make_event(current, EventKind::kInvoke);
  auto& e = *pooled_e;
  if (sim.tracing()) e.detail = {{"op_process", process}, {"f", f}, {"value", value}};
  const auto seq = emit(e);
  if (open_invokes.size() <= static_cast<std::size_t>(process)) open_invokes.resize(process + 1);
  open_invokes[process] = seq;
  history_entries.push_back(HistoryEntry{static_cast<std::int64_t>(history_entries.size()),
                                         sim.now_,
                                         process,
                                         OpType::kInvoke,
                                         f,
                                         std::move(value),
                                         {},
                                         std::move(reading)});
}

void Simulator::Impl::complete(int process, OpType type, const std::string& f, nlohmann::json value,
                               std::string error) {
  auto pooled_e = make_event(current, EventKind::kComplete);
  auto& e = *pooled_e;
  if (static_cast<std::size_t>(process) < open_invokes.size()) e.cause = open_invokes[process];
  if (sim.tracing()) {
    e.detail = {{"op_process", process}, {"f", f}, {"type", op_type_name(type)}, {"value", value}};
    if (!error.empty()) e.detail["error"] = error;
  }
  emit(e);
  history_entries.push_back(HistoryEntry{static_cast<std::int64_t>(history_entries.size()),
                                         sim.now_,
                                         process,
                                         type,
                                         f,
                                         std::move(value),
                                         std::move(error),
                                         {}});
}

// ---------------------------------------------------------------------------------------------------

Simulator::Simulator(RunConfig config)
    : config_(std::move(config)),
      workload_prng_(Prng(config_.seed).fork(kWorkload)),
      impl_(std::make_unique<Impl>(*this, config_)) {}

Simulator::~Simulator() = default;

ProcessId Simulator::add_process(std::string name, ProcessFactory factory, ProcessOptions options) {
  ProcessSlot slot;
  slot.name = std::move(name);
  slot.factory = std::move(factory);
  slot.options = options;
  impl_->processes.push_back(std::move(slot));
  return static_cast<ProcessId>(impl_->processes.size() - 1);
}

void Simulator::add_invariant(std::string name, InvariantCheck check) {
  impl_->invariants.push_back({{std::move(name)}, std::move(check), nullptr});
}

void Simulator::add_invariants(std::vector<std::string> names, InvariantSetCheck check) {
  if (names.empty()) throw std::invalid_argument("add_invariants: a set of no invariants");
  impl_->invariants.push_back({std::move(names), nullptr, std::move(check)});
}

void Simulator::add_final_check(std::string name, InvariantCheck check) {
  impl_->final_checks.push_back({std::move(name), std::move(check)});
}

void Simulator::add_liveness(std::string name, Duration bound, ProgressCheck awaited) {
  add_liveness_update(std::move(name), bound,
                      [awaited = std::move(awaited)](std::optional<Finding>& last) {
                        auto now = awaited();
                        if (!now) return true;
                        last = std::move(*now);
                        return false;
                      });
}

void Simulator::add_liveness_update(std::string name, Duration bound, ProgressUpdate check) {
  Liveness property;
  property.name = std::move(name);
  property.bound = bound;
  property.check = std::move(check);
  impl_->liveness.push_back(std::move(property));
  ++impl_->liveness_left;
}

bool Simulator::healed() const {
  return impl_->healed;
}

void Simulator::add_annotator(Annotator annotator) {
  impl_->annotators.push_back(std::move(annotator));
}

HistoryRecorder& Simulator::history() {
  return *impl_;
}

const FaultProfile& Simulator::faults() const {
  return impl_->profile;
}

void Simulator::note(const std::string& what, nlohmann::json facts) {
  auto& im = *impl_;
  auto pooled_e = im.make_event(im.current, EventKind::kAnnotation);
  auto& e = *pooled_e;
  if (tracing()) {
    e.detail = {{"what", what}};
    e.oracle = std::move(facts);
  }
  im.emit(e);
}
bool Simulator::service_fault(const std::string& kind, bool drawn) {
  auto& im = *impl_;
  if (im.healed) drawn = false;  // drawn all the same: the service's random stream is unchanged
  if (im.current == kNoProcess) return drawn;
  return im.decisions.service_fault(im.current, kind, drawn,
                                    im.processes[static_cast<std::size_t>(im.current)].last_event);
}
bool Simulator::is_up(ProcessId id) const {
  return impl_->processes.at(id).up;
}
DiskView Simulator::disk(ProcessId id) const {
  const auto& d = impl_->processes.at(id).disk;
  return DiskView{&d.durable(), &d.pending()};
}
const std::string& Simulator::process_name(ProcessId id) const {
  return impl_->processes.at(id).name;
}
int Simulator::process_count() const {
  return static_cast<int>(impl_->processes.size());
}
std::uint64_t Simulator::current_event() const {
  return impl_->next_seq - 1;
}

void Simulator::Impl::start_run() {
  const auto& config = sim.config_;
  Prng service_prng = Prng(config.seed).fork(kServiceFaults);
  profile = config.faults ? FaultProfile::with(*config.faults, config.fault_levels)
                          : FaultProfile::swarm(fault_prng, service_prng);
  const auto n = processes.size();
  std::vector<std::string> names;
  for (const auto& p : processes) names.push_back(p.name);
  decisions.bind(names);
  links.resize(n * n);
  for (std::size_t i = 0; i < n; ++i) {
    auto& slot = processes[i];
    slot.env = std::make_unique<ProcessEnv>(*this, static_cast<ProcessId>(i));
    if (slot.options.starts_at_heal) {
      // Down, and not a running client, until heal_all starts it (start_process counts it then).
      slot.up = false;
      slot.finished = true;
    } else if (slot.options.client) {
      ++clients_running;
    }
  }
  schedule_initial_faults();
  for (std::size_t i = 0; i < n && !violation; ++i) {
    if (processes[i].options.starts_at_heal) continue;
    start_process(static_cast<ProcessId>(i), EventKind::kStart);
    check_invariants();
  }
}

void Simulator::Impl::dispatch(QueuedEvent& q) {
  switch (q.kind) {
    case Scheduled::kDeliver:
      on_deliver(q);
      break;
    case Scheduled::kWake:
      on_wake(q);
      break;
    case Scheduled::kCrash:
      on_crash(q);
      break;
    case Scheduled::kRestart:
      on_restart(q);
      break;
    case Scheduled::kPause:
      on_pause(q);
      break;
    case Scheduled::kResume:
      on_resume(q);
      break;
    case Scheduled::kPartition:
      on_partition(q);
      break;
    case Scheduled::kHeal:
      on_heal(q);
      break;
  }
}

void Simulator::Impl::record_violation(std::uint64_t steps, bool stalled) {
  if (!stalled && !violation) check_final();
  if (stalled && !violation) {
    // Clients time out every operation, so a run that cannot finish is itself a bug (a livelock, or
    // an event storm that never lets virtual time pass).
    violation = Violation{"run-completes",
                          "clients did not finish within the time or event limit (t=" +
                              std::to_string(sim.now_) + "ns, " + std::to_string(steps) + " steps)",
                          next_seq - 1, sim.now_};
  }
  if (!violation) return;
  auto pooled_e = make_event(kNoProcess, EventKind::kViolation);
  auto& e = *pooled_e;
  if (sim.tracing()) {
    e.detail = {{"invariant", violation->invariant},
                {"message", violation->message},
                {"after_event", violation->event}};
    if (violation->liveness) e.detail["liveness"] = true;  // (detail is flattened: not "kind")
    if (!violation->entities.empty()) e.detail["entities"] = violation->entities;
  }
  emit(e);
}

RunResult Simulator::run() {
  auto& im = *impl_;
  im.start_run();
  RunResult result;
  std::uint64_t steps = 0;
  while (!im.violation) {
    if (im.clients_running == 0) {
      // The clients are done: the run ends, unless liveness properties wait for the heal phase.
      if (!im.liveness_pending()) break;
      if (!im.healed) {
        im.heal_all();
        im.check_invariants();
        im.check_liveness();
        continue;
      }
    }
    // A plain flag and time, not an optional: g++ 12 -O2 warned it "may be used uninitialized".
    const auto due = im.healed ? im.liveness_deadline() : std::nullopt;
    const bool awaiting = due.has_value();
    const Time deadline = due.value_or(0);
    if (im.queue.empty()) {
      if (awaiting) {
        im.record_liveness_failure(now_, "nothing was left to happen");
        break;
      }
      result.stalled = true;
      break;
    }
    if (awaiting && im.queue.next_time() > deadline) {
      im.record_liveness_failure(deadline, nullptr);
      break;
    }
    // Dispatched where it lies in the queue's slab, released after.
    const auto slot = im.queue.pop();
    QueuedEvent& q = im.queue.at(slot);
    if (q.time > config_.max_time || ++steps > config_.max_events) {
      im.queue.release(slot);
      if (awaiting) {
        im.record_liveness_failure(now_, "the run's time or event limit came first");
        break;
      }
      result.stalled = true;
      break;
    }
    SEER_ASSERT(q.time >= now_, "virtual time never goes backwards");
    now_ = q.time;
    im.dispatch(q);
    im.queue.release(slot);
    im.check_invariants();
    if (im.healed) im.check_liveness();
  }
  im.record_violation(steps, result.stalled);
  if (im.healed) result.healed_at = im.healed_at;

  result.seed = config_.seed;
  result.violation = im.violation;
  result.trace_hash = im.hash.value();
  result.events = im.next_seq - 1;
  result.delivered = im.delivered;
  result.end_time = now_;
  result.profile = im.profile;
  result.history = std::move(im.history_entries);
  result.trace_lines = std::move(im.trace_lines);
  for (const auto& p : im.processes) result.process_names.push_back(p.name);
  result.schedule = im.decisions.take_recorded();
  return result;
}

}  // namespace seer::sim
