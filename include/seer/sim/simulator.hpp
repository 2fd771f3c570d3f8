// The deterministic simulator: one thread, virtual time, every choice drawn from one seed.
//
// A system sets itself up by adding processes (each a coroutine factory, called again at every
// restart so volatile state really dies), invariants over the global state, and annotators that add
// forbidden facts to trace events. run() then executes the whole run as a function of the seed.
#pragma once

#include "seer/sim/env.hpp"
#include "seer/sim/faults.hpp"
#include "seer/sim/history.hpp"
#include "seer/sim/prng.hpp"
#include "seer/sim/schedule.hpp"
#include "seer/sim/trace.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace seer::sim {

struct RunConfig {
  std::uint64_t seed = 1;
  int ops = 50;  // client operations in the whole run
  // Fewer concurrent clients (consumers, writers) than the system's default, for shrinking; 0 or a
  // number not below the default: the default.
  int clients = 0;
  std::optional<std::vector<FaultKind>> faults;  // nullopt: swarm (the seed draws the profile)
  // Pinned intensity levels of some of `faults` (--faults clock:3); the others run at
  // FaultProfile::kDefaultLevel. Ignored under swarm.
  std::map<FaultKind, int> fault_levels;
  Time max_time = seconds(600);
  std::uint64_t max_events = 2'000'000;  // scheduled events popped
  bool record_trace = false;
  // Which implementation backs each simulated service a system uses, e.g. {"kv": "stale"}
  // (--service kv=stale). Empty: each system's default. See docs/services.md.
  std::map<std::string, std::string> services;
  // Replay: every network and fault decision comes from this schedule instead of the seed (the
  // fault profile, the workload and the processes' own randomness still come from the seed).
  std::shared_ptr<const FaultSchedule> schedule;
  // Keep the decisions taken in RunResult::schedule (a seeded run's, or a replay's normalised).
  bool record_schedule = false;
  // Skip schedule entries about processes this run does not have (shrink candidates with fewer
  // clients); otherwise such an entry is an error.
  bool lenient_schedule = false;
  // The implementation chosen for simulated service `name` (--service NAME=IMPL), or `fallback`.
  std::string service_or(const std::string& name, const std::string& fallback = {}) const {
    const auto it = services.find(name);
    return it == services.end() ? fallback : it->second;
  }
  // The heal phase (docs/simulator.md, "Liveness"): when every client has returned, a system that
  // declares liveness properties has its faults stopped and everything down brought back, and each
  // property must hold within its bound. false (--no-heal): the run ends with its clients, as a
  // system without liveness properties always does.
  bool heal = true;
  // The function behind RunResult::trace_hash: the current one, or, replaying a trace or run file
  // of an older format, that file's (trace::kTraceFormat; its recorded hash then still compares).
  TraceHashFunction hash_function = TraceHashFunction::kWordMix;
  // The number of clients a system with `system_default` of them runs.
  int clients_or(int system_default) const {
    return clients > 0 && clients < system_default ? clients : system_default;
  }
};

struct Violation {
  std::string invariant;
  std::string message;
  std::uint64_t event = kNoEvent;  // the event after which it was detected
  Time time = 0;
  // A liveness property that did not come true within its bound after the heal (`invariant` is the
  // property's name); otherwise a safety violation: something bad happened.
  bool liveness = false;
  // The entities the check named (Finding::entities): in the trace's violation, for explain.
  std::vector<std::string> entities = {};
};

struct RunResult {
  std::uint64_t seed = 0;
  std::optional<Violation> violation;
  std::uint64_t trace_hash = 0;
  std::uint64_t events = 0;
  std::uint64_t delivered = 0;
  Time end_time = 0;
  bool stalled = false;  // the run stopped before its clients finished (time or event limit)
  std::optional<Time> healed_at;  // when the heal phase began, if the run had one
  FaultProfile profile;
  std::vector<HistoryEntry> history;
  std::vector<std::string> trace_lines;  // JSONL, when recorded (header and footer excluded)
  std::vector<std::string> process_names;
  std::shared_ptr<FaultSchedule> schedule;  // with RunConfig::record_schedule
  bool ok() const { return !violation; }
};

using ProcessFactory = std::function<Task<void>(Env&)>;

struct ProcessOptions {
  bool crashable = true;  // the crash fault may hit it
  bool client = false;    // the run ends when every client's coroutine has returned
  // The pause fault may hit it (a GC pause, a VM stall); unset: as `crashable`. A process that
  // must not crash (a client, a managed service) may still stall: {.crashable = false,
  // .pausable = true}.
  std::optional<bool> pausable = std::nullopt;
  // Started by the heal, not before (Jepsen's final reads: a client that, once the faults stopped,
  // reads what the system converged to). No fault draw counts it: no clock skew, no crash or
  // pause, never on a side of a partition, so adding one leaves every seed's faults as they were.
  // It starts only in a run that heals (a system with liveness properties, heal on), after the
  // heal's restarts; before that it is down and messages sent to it are lost.
  bool starts_at_heal = false;
  bool can_pause() const { return !starts_at_heal && pausable.value_or(crashable); }
  bool can_crash() const { return !starts_at_heal && crashable; }
};

// A process's disk as only the simulator sees it: what is durable and what is still buffered.
struct DiskView {
  const std::map<std::string, std::string>* durable;
  const std::vector<std::pair<std::string, std::optional<std::string>>>* pending;  // nullopt: erase
  // The value the process would read now (pending writes over durable ones).
  std::optional<std::string> current(const std::string& key) const;
};

// What a check found: the text a violation reports and, optionally, the entities it is about as
// they appear in the run's data (a key "job/17", an id "inv-3", a name). `seer explain` follows
// those entities through the trace; without them it takes entities from the words of the text.
// A check may return a plain string: it converts.
struct Finding {
  Finding(std::string text, std::vector<std::string> entities = {})  // NOLINT: implicit on purpose
      : text(std::move(text)), entities(std::move(entities)) {}
  Finding(const char* text) : text(text) {}  // NOLINT: implicit on purpose
  std::string text;
  std::vector<std::string> entities;
};

// An invariant's check: nullopt while it holds, else what is wrong.
using InvariantCheck = std::function<std::optional<Finding>()>;
// Which of a set of invariants failed (its index among the set's names) and what it found.
struct InvariantFailure {
  std::size_t index = 0;
  Finding finding;
};
// A set of invariants checked by one function (Simulator::add_invariants): nullopt while all hold,
// else the first of them, in the order of their names, that fails.
using InvariantSetCheck = std::function<std::optional<InvariantFailure>()>;
// A liveness property's check: nullopt once the awaited thing has happened, else what is still
// awaited, naming the entity ({"job 17's effect never ran; ...", {"job/17"}}).
using ProgressCheck = std::function<std::optional<Finding>()>;
// The same check in place: true once the awaited thing has happened; while it waits, false with
// what is still awaited in `awaited`, the simulator's own slot for this property, which holds what
// this check left there last time (nullopt the first time). A check that knows nothing changed
// since may leave it as it is, instead of building or copying a Finding after every event.
using ProgressUpdate = std::function<bool(std::optional<Finding>& awaited)>;

// Tells an invariant whether what it depends on changed since it last looked, so an expensive
// check (a query over a database, a walk over a store) runs only after the events that matter.
// `version` measures the state: a commit count, a store revision, anything that changes with it.
class ChangeWatch {
 public:
  explicit ChangeWatch(std::function<std::uint64_t()> version) : version_(std::move(version)) {}
  // True the first time, then whenever the version differs from the one seen last.
  bool changed() const {
    const auto now = version_();
    if (seen_ && now == last_) return false;
    seen_ = true;
    last_ = now;
    return true;
  }

 private:
  std::function<std::uint64_t()> version_;
  mutable bool seen_ = false;
  mutable std::uint64_t last_ = 0;
};

// `check`, run only after events that changed `version` (ChangeWatch); it holds otherwise, since
// it held the last time it ran.
inline InvariantCheck when_changed(std::function<std::uint64_t()> version, InvariantCheck check) {
  return [watch = ChangeWatch(std::move(version)), check = std::move(check)] {
    return watch.changed() ? check() : std::nullopt;
  };
}
// Adds forbidden facts to `event.oracle`. `event.payload` is set for message events.
using Annotator = std::function<void(TraceEvent& event)>;

class Simulator {
 public:
  explicit Simulator(RunConfig config);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // --- set-up, called by a system before run() ---
  ProcessId add_process(std::string name, ProcessFactory factory, ProcessOptions options = {});
  // The two kinds most systems need, as turmoil names them: a host (a server: crashes and pauses
  // hit it) and a client (the run ends when every client returned; never crashed or paused).
  ProcessId host(std::string name, ProcessFactory factory) {
    return add_process(std::move(name), std::move(factory), {});
  }
  ProcessId client(std::string name, ProcessFactory factory) {
    return add_process(std::move(name), std::move(factory), {.crashable = false, .client = true});
  }
  void add_invariant(std::string name, InvariantCheck check);
  // Invariants that share their work (one look at the ground truth after each event, then a few
  // tests) checked by one call after each event instead of one each: `check` reports the first of
  // `names`, in order, that fails. A violation names it as if each had been added on its own, in
  // that order, at this point among the other invariants.
  void add_invariants(std::vector<std::string> names, InvariantSetCheck check);
  // A check at quiescence: run once when the run ends with every client returned (not after a
  // violation or a stall), e.g. "every shipment refers to a committed order". A failure is reported
  // as an invariant's violation is, after the run's last event.
  void add_final_check(std::string name, InvariantCheck check);
  // A bounded liveness property: within `bound` of simulated time after the heal (every client
  // returned, faults stopped, crashed processes restarted, paused ones resumed, partitions healed,
  // clocks no longer drifting, the network delivering every message), `awaited` reports nullopt.
  // Checked after every event of the heal phase, which ends once every property has held (or one
  // ran out of time: a violation with `liveness` set). Not checked under RunConfig::heal = false.
  void add_liveness(std::string name, Duration bound, ProgressCheck awaited);
  // add_liveness with the check in place (ProgressUpdate): the same property, checked the same way.
  void add_liveness_update(std::string name, Duration bound, ProgressUpdate check);
  void add_annotator(Annotator annotator);
  const RunConfig& config() const { return config_; }
  // Draws for the workload (which ops clients issue), independent of network and fault choices.
  Prng& workload_random() { return workload_prng_; }
  HistoryRecorder& history();
  // The run's fault profile (valid once run() started, i.e. inside processes and invariants).
  const FaultProfile& faults() const;
  // Records a fact only the simulator knows as an `annotation` trace event on the current process
  // (e.g. a simulated service that applied a request and dropped its response). Simulated
  // infrastructure calls it; algorithm code cannot, it only sees Env.
  void note(const std::string& what, nlohmann::json facts);
  // A fault a simulated service injects inside its contract (kind: "lost_response", "stale_read",
  // ...), decided on the current process: `drawn` (the service's own draw) in a seeded run, the
  // schedule's choice in a replay. Always draw first, so the processes' random stream stays the
  // same either way.
  bool service_fault(const std::string& kind, bool drawn);

  // --- the omniscient view, for invariants and annotators ---
  Time true_now() const { return now_; }
  bool is_up(ProcessId id) const;
  DiskView disk(ProcessId id) const;
  const std::string& process_name(ProcessId id) const;
  int process_count() const;
  bool tracing() const { return config_.record_trace; }
  // Whether the heal phase has begun (no more faults from here on).
  bool healed() const;
  // The current event (the one being annotated or just executed).
  std::uint64_t current_event() const;

  RunResult run();

  class Impl;

 private:
  RunConfig config_;
  Prng workload_prng_;
  Time now_ = 0;
  std::unique_ptr<Impl> impl_;
};

}  // namespace seer::sim
