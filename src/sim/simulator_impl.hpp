// Internal state of a simulation run. Split across network.cpp (messages, partitions),
// process_env.cpp (the Env processes see), fault_schedule.cpp (crash, pause, partition events),
// disk.cpp and simulator.cpp (the event loop).
#pragma once

#include "decisions.hpp"
#include "disk.hpp"
#include "event_queue.hpp"
#include "seer/assert.hpp"
#include "seer/sim/simulator.hpp"

#include <coroutine>
#include <deque>
#include <vector>

namespace seer::sim {

class ProcessEnv;

enum class Wait : std::uint8_t { kNone, kReceive, kSleep, kSync };

struct Delivered {
  Message message{};
  std::uint64_t deliver_event;
};

struct ProcessSlot {
  std::string name;
  ProcessFactory factory;
  ProcessOptions options;
  bool up = true;
  bool paused = false;
  Time paused_at = 0;
  bool finished = false;  // its coroutine returned
  std::uint32_t incarnation = 0;
  Task<void> root;
  std::deque<Delivered> mailbox;
  Wait wait = Wait::kNone;
  std::coroutine_handle<> waiter;
  std::optional<Message>* receive_out = nullptr;
  std::uint64_t wait_token = 0;
  std::uint64_t wait_cause = kNoEvent;  // event that set the timer
  CodeSite wait_site;                   // the algorithm's line that waits
  bool wake_while_paused = false;
  Disk disk;
  Duration clock_offset = 0;
  std::int32_t clock_drift_ppm = 0;
  std::uint64_t last_event = kNoEvent;
  std::unique_ptr<ProcessEnv> env;
  // Both a receive's timeout and a message came while it was paused: either may win on resume.
  bool receive_raced() const {
    return wake_while_paused && wait == Wait::kReceive && !mailbox.empty();
  }
};

struct Partition {
  std::uint64_t id;
  std::vector<bool> side;  // side[p]: true = group A
  bool one_way;            // only A -> B is blocked
};

// Per directed link: latency bound and recent deliveries, to report reordering.
struct Link {
  Duration latency_max = 0;
  std::uint64_t sent = 0;  // messages sent on the link so far
  // (send index, message id) delivered, the last kRecentDeliveries (network.cpp), only when
  // tracing. A vector, not a deque: libstdc++'s deque allocates twice when constructed, and a run
  // has a link per pair of processes.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> recent;
};

struct Invariant {
  std::string name;
  InvariantCheck check;
};
// One invariant (add_invariant: `single`, one name) or a set added together (add_invariants:
// `set`, which reports the index of the name that failed).
struct InvariantEntry {
  std::vector<std::string> names;
  InvariantCheck single;
  InvariantSetCheck set;
};

// A liveness property and how far it got in the heal phase.
struct Liveness {
  std::string name;
  Duration bound = 0;
  ProgressUpdate check;  // add_liveness's ProgressCheck, wrapped
  bool held = false;
  std::optional<Finding> last_awaited;  // what it still waited for when last checked
};

class Simulator::Impl final : public HistoryRecorder {
 public:
  Impl(Simulator& sim, const RunConfig& config);
  ~Impl() override;

  Simulator& sim;
  const RunConfig& config;
  Prng net_prng;
  Prng fault_prng;
  Prng process_prng;
  Prng pause_race_prng;  // who wins when a receive's timeout and a message both came in a pause
  FaultProfile profile;
  Decisions decisions;

  std::vector<ProcessSlot> processes;
  std::vector<InvariantEntry> invariants;  // in the order they were added
  std::vector<Invariant> final_checks;
  std::vector<Liveness> liveness;
  // The properties not held yet and the earliest bound among them (healed_at + bound), kept as
  // they change: the run asks after every event of the heal phase.
  std::size_t liveness_left = 0;
  std::optional<Time> next_liveness_deadline;
  void update_liveness_deadline();
  bool healed = false;  // the heal phase began: no more faults
  Time healed_at = 0;
  std::vector<Annotator> annotators;
  EventQueue queue;
  std::uint64_t next_seq = 1;
  std::uint64_t next_message_id = 1;
  std::uint64_t next_token = 1;
  std::uint64_t next_partition_id = 1;
  std::vector<Partition> partitions;
  std::vector<Link> links;  // from * n + to
  ProcessId current = kNoProcess;
  int clients_running = 0;
  std::uint64_t delivered = 0;
  std::optional<Violation> violation;
  TraceHash hash;
  std::vector<std::string> trace_lines;
  std::vector<HistoryEntry> history_entries;
  std::vector<std::uint64_t> open_invokes;  // per history process: invoke event seq

  // --- events ---
  // The event is the run's pooled one at the current depth (nested events, e.g. a delivery that
  // resumes a process which sends, take the next), reset for reuse: no TraceEvent with its two JSON
  // members is built and destroyed per event (8% of a ping-pong delivery's instructions).
  class PooledEvent {
   public:
    PooledEvent(TraceEvent& event, std::size_t& depth) : event_(event), depth_(depth) { ++depth_; }
    ~PooledEvent() { --depth_; }
    PooledEvent(const PooledEvent&) = delete;
    PooledEvent& operator=(const PooledEvent&) = delete;
    TraceEvent& operator*() const { return event_; }

   private:
    TraceEvent& event_;
    std::size_t& depth_;
  };
  [[gnu::always_inline]] PooledEvent make_event(ProcessId process, EventKind kind) {
    SEER_ASSERT(process == kNoProcess ||
                    (process >= 0 && static_cast<std::size_t>(process) < processes.size()),
                "an event's process index is in range");
    if (event_depth == event_pool.size()) [[unlikely]] {
      grow_event_pool();
    }
    TraceEvent& e = *event_pool[event_depth];
    e.seq = 0;
    e.time = sim.now_;
    e.process = process;
    e.kind = kind;
    e.peer = kNoProcess;
    e.message = 0;
    e.previous = process != kNoProcess ? processes[process].last_event : kNoEvent;
    e.cause = kNoEvent;
    e.payload = nullptr;
    e.site = {};
    // Only a traced run's events hold JSON: checking is cheaper than destroying a null value.
    if (!e.detail.is_null() || !e.oracle.is_null()) [[unlikely]] {
      clear_json(e);
    }
    return {e, event_depth};
  }
  // make_event's rare paths, out of line so that its common one inlines.
  [[gnu::noinline]] void grow_event_pool() { event_pool.push_back(std::make_unique<TraceEvent>()); }
  [[gnu::noinline]] static void clear_json(TraceEvent& e) {
    e.detail = nullptr;
    e.oracle = nullptr;
  }
  std::vector<std::unique_ptr<TraceEvent>> event_pool;  // growing it keeps events in use in place
  std::size_t event_depth = 0;
  // Records the event: hash, program order, annotations, trace line. Returns its sequence number.
  [[gnu::always_inline]] std::uint64_t emit(TraceEvent& e) {
    e.seq = next_seq++;
    if (e.process != kNoProcess) processes[e.process].last_event = e.seq;
    hash.add(e, e.payload ? e.payload->body.get() : nullptr);
    if (sim.tracing()) record(e);
    return e.seq;
  }
  // A traced run's part of emitting: the annotations and the trace line.
  void record(TraceEvent& e);
  std::vector<std::string> trace_names;  // the processes' names, for the trace lines
  void push(QueuedEvent&& event) { queue.push(std::move(event)); }
  Time now_plus(Duration d) const { return sim.now_ + d; }

  // --- processes (simulator.cpp / process_env.cpp) ---
  void start_process(ProcessId id, EventKind why);
  void resume(ProcessId id);
  void after_resume(ProcessId id);
  Time local_time(const ProcessSlot& slot) const;
  Duration true_duration(const ProcessSlot& slot, Duration local) const;
  std::uint64_t schedule_wake(ProcessId id, Duration true_delay);
  void on_wake(const QueuedEvent& event);
  void fire_wake(ProcessId id);

  // --- network (network.cpp) ---
  void send(ProcessId from, ProcessId to, PayloadPtr body, CodeSite at = {});
  void on_deliver(QueuedEvent& event);
  bool blocked(ProcessId from, ProcessId to) const;
  Link& link(ProcessId from, ProcessId to);
  Duration draw_latency(Link& l, bool spikes = true);

  // --- faults (fault_schedule.cpp) ---
  void schedule_initial_faults();
  void schedule_replayed_faults();
  void push_replayed(Scheduled kind, ProcessId process, std::optional<std::size_t> index);
  void on_crash(const QueuedEvent& event);
  void on_restart(const QueuedEvent& event);
  void on_pause(const QueuedEvent& event);
  void on_resume(const QueuedEvent& event);
  void on_partition(const QueuedEvent& event);
  void on_heal(const QueuedEvent& event);
  // Ends a pause now; `message_first`: a message waiting beats a timeout that fired in the pause.
  void end_pause(ProcessId id, bool message_first);

  // --- the heal phase and liveness (heal.cpp) ---
  // Whether the run goes on past its clients: liveness properties are declared and not all held.
  bool liveness_pending() const;
  // The processes a partition splits (all but those the heal starts), in id order.
  std::vector<std::size_t> partitionable() const;
  void heal_all();  // stop faults, restart, resume, heal partitions, stop clock drift
  void check_liveness();
  // The earliest time an unheld property runs out, or nullopt when none is pending (valid once
  // healed).
  std::optional<Time> liveness_deadline() const { return next_liveness_deadline; }
  void record_liveness_failure(Time deadline, const char* why);

  void check_invariants();
  [[gnu::noinline]] void fail(const std::string& invariant, Finding&& finding);  // a violation
  void check_final();

  // --- the run (simulator.cpp) ---
  void start_run();                   // profile, envs, initial faults, every process started
  void dispatch(QueuedEvent& event);  // one scheduled event
  void record_violation(std::uint64_t steps, bool stalled);  // the violation event, if any

  // HistoryRecorder
  void invoke(int process, const std::string& f, nlohmann::json value) override;
  void invoke_read(int process, const std::string& f, nlohmann::json value,
                   std::shared_ptr<const check::InputReading> reading) override;
  void complete(int process, OpType type, const std::string& f, nlohmann::json value,
                std::string error) override;
};

}  // namespace seer::sim
