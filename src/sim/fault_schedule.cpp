// Process and network faults over time: crashes and restarts, pauses, partitions and heals, clock
// skew.
#include "process_env.hpp"
#include "seer/assert.hpp"

namespace seer::sim {

// In a replay every time and length comes from the schedule (Decisions); the seeded branches draw
// exactly as they always did, so a seed keeps its meaning.
void Simulator::Impl::schedule_initial_faults() {
  const auto n = static_cast<ProcessId>(processes.size());
  if (decisions.replaying()) {
    schedule_replayed_faults();
    return;
  }
  for (ProcessId id = 0; id < n; ++id) {
    auto& slot = processes[id];
    if (slot.options.starts_at_heal) continue;  // after the faults: no draw of its own
    if (profile.has(FaultKind::kClock)) {
      slot.clock_offset = fault_prng.between(-profile.clock_skew_max, profile.clock_skew_max);
      slot.clock_drift_ppm = static_cast<std::int32_t>(
          fault_prng.between(-profile.clock_drift_max_ppm, profile.clock_drift_max_ppm));
      decisions.record_clock(id, slot.clock_offset, slot.clock_drift_ppm);
    }
    // Crash draws before pause draws, per process: the order every seed's meaning depends on.
    if (slot.options.can_crash() && profile.crash_every > 0) {
      QueuedEvent q{fault_prng.between(milliseconds(1), 2 * profile.crash_every), 0,
                    Scheduled::kCrash};
      q.process = id;
      push(std::move(q));
    }
    if (slot.options.can_pause() && profile.pause_every > 0) {
      QueuedEvent q{fault_prng.between(milliseconds(1), 2 * profile.pause_every), 0,
                    Scheduled::kPause};
      q.process = id;
      push(std::move(q));
    }
  }
  if (profile.partition_every > 0 && partitionable().size() >= 2) {
    push(QueuedEvent{fault_prng.between(milliseconds(1), 2 * profile.partition_every), 0,
                     Scheduled::kPartition});
  }
}

std::vector<std::size_t> Simulator::Impl::partitionable() const {
  std::vector<std::size_t> members;
  for (std::size_t i = 0; i < processes.size(); ++i) {
    if (!processes[i].options.starts_at_heal) members.push_back(i);
  }
  return members;
}

void Simulator::Impl::schedule_replayed_faults() {
  const auto n = static_cast<ProcessId>(processes.size());
  for (ProcessId id = 0; id < n; ++id) {
    auto& slot = processes[id];
    if (slot.options.starts_at_heal) continue;
    const auto clock = decisions.clock(id);
    slot.clock_offset = clock.offset;
    slot.clock_drift_ppm = clock.drift_ppm;
    decisions.record_clock(id, clock.offset, clock.drift_ppm);
    if (slot.options.can_crash()) push_replayed(Scheduled::kCrash, id, decisions.next_crash(id, 0));
    if (slot.options.can_pause()) push_replayed(Scheduled::kPause, id, decisions.next_pause(id, 0));
  }
  if (partitionable().size() >= 2) {
    push_replayed(Scheduled::kPartition, kNoProcess, decisions.next_partition(0));
  }
}

void Simulator::Impl::push_replayed(Scheduled kind, ProcessId process,
                                    std::optional<std::size_t> index) {
  if (!index) return;
  Time at = 0;
  if (kind == Scheduled::kCrash) at = decisions.crash(*index).at;
  if (kind == Scheduled::kPause) at = decisions.pause(*index).at;
  if (kind == Scheduled::kPartition) at = decisions.partition(*index).at;
  QueuedEvent q{at, 0, kind};
  q.process = process;
  q.fault = *index + 1;
  push(std::move(q));
}

void Simulator::Impl::on_crash(const QueuedEvent& q) {
  auto& slot = processes[q.process];
  if (!slot.up || healed) return;
  auto pooled_e = make_event(q.process, EventKind::kCrash);
  auto& e = *pooled_e;
  const bool replayed = q.fault > 0;
  CrashFault fault{slot.name, sim.true_now()};
  TornChoice choice;
  if (replayed) {
    const auto& c = decisions.crash(q.fault - 1);
    fault.torn = c.torn;
    choice = {c.torn_keep, c.torn_cut};
  } else {
    fault.torn = fault_prng.chance(profile.torn_ppm);
  }
  // Forbidden facts: what the crash took away. Computed even when not tracing so the draws stay
  // identical.
  auto lost = slot.disk.crash(fault_prng, fault.torn, choice, replayed);
  fault.torn_keep = choice.keep;
  fault.torn_cut = choice.cut;
  if (sim.tracing()) {
    lost["volatile_state"] = "discarded";
    lost["lost_mailbox_messages"] = slot.mailbox.size();
    lost["was_paused"] = slot.paused;
    e.oracle = std::move(lost);
  }
  slot.up = false;
  slot.paused = false;
  slot.wake_while_paused = false;
  slot.incarnation++;
  slot.wait = Wait::kNone;
  slot.waiter = nullptr;
  slot.receive_out = nullptr;
  slot.mailbox.clear();
  // Destroys every coroutine frame of the process: its volatile state. A process that had
  // returned stays `finished` while down; a restart runs it again (start_process counts a client
  // as running again until it returns again).
  slot.root.reset();
  emit(e);
  fault.down = replayed ? decisions.crash(q.fault - 1).down
                        : fault_prng.between(milliseconds(1), profile.restart_after_max);
  decisions.record_crash(fault);
  QueuedEvent r{now_plus(fault.down), 0, Scheduled::kRestart};
  r.process = q.process;
  push(std::move(r));
}

void Simulator::Impl::on_restart(const QueuedEvent& q) {
  if (healed && processes[q.process].up) return;  // the heal restarted it already
  SEER_ASSERT(!processes[q.process].up, "a restart follows a crash");
  start_process(q.process, EventKind::kRestart);
  if (decisions.replaying()) {
    push_replayed(Scheduled::kCrash, q.process, decisions.next_crash(q.process, sim.true_now()));
    return;
  }
  QueuedEvent c{now_plus(fault_prng.between(milliseconds(1), 2 * profile.crash_every)), 0,
                Scheduled::kCrash};
  c.process = q.process;
  push(std::move(c));
}

void Simulator::Impl::on_pause(const QueuedEvent& q) {
  if (healed) return;
  auto& slot = processes[q.process];
  const bool replayed = q.fault > 0;
  if (slot.up && !slot.paused) {
    slot.paused = true;
    slot.paused_at = sim.true_now();
    const Duration length = replayed
                                ? decisions.pause(q.fault - 1).length
                                : fault_prng.between(milliseconds(1), profile.pause_length_max);
    decisions.record_pause({slot.name, sim.true_now(), length, false});
    auto pooled_e = make_event(q.process, EventKind::kPause);
    auto& e = *pooled_e;
    if (sim.tracing()) e.oracle = {{"pause_ns", length}};
    emit(e);
    QueuedEvent r{now_plus(length), 0, Scheduled::kResume};
    r.process = q.process;
    r.incarnation = slot.incarnation;
    r.fault = q.fault;  // replay: the pause, whose entry says how a race on resume went
    push(std::move(r));
  }
  if (replayed) {
    push_replayed(Scheduled::kPause, q.process, decisions.next_pause(q.process, sim.true_now()));
    return;
  }
  QueuedEvent next{now_plus(fault_prng.between(milliseconds(1), 2 * profile.pause_every)), 0,
                   Scheduled::kPause};
  next.process = q.process;
  push(std::move(next));
}

void Simulator::Impl::on_resume(const QueuedEvent& q) {
  auto& slot = processes[q.process];
  if (!slot.up || !slot.paused || slot.incarnation != q.incarnation) return;
  SEER_ASSERT(slot.wait != Wait::kReceive || slot.receive_out,
              "a paused receiver has a place for the message");
  // A receive whose timeout passed during the pause while a message arrived: on a real machine
  // the process finds its timer expired and the message waiting, and either may win. In a seeded
  // run the pause-race stream decides; a replay takes the pause's recorded outcome.
  const bool race = slot.receive_raced();
  bool message_first = false;
  if (race) {
    message_first =
        q.fault > 0 ? decisions.pause(q.fault - 1).receive_first : pause_race_prng.chance(500'000);
    if (message_first) decisions.record_receive_first(slot.name);
  }
  end_pause(q.process, message_first);
}

void Simulator::Impl::end_pause(ProcessId id, bool message_first) {
  auto& slot = processes[id];
  const bool race = slot.receive_raced();
  slot.paused = false;
  auto pooled_e = make_event(id, EventKind::kResume);
  auto& e = *pooled_e;
  if (sim.tracing()) {
    e.oracle = {{"paused_ns", sim.true_now() - slot.paused_at},
                {"mailbox_waiting", slot.mailbox.size()}};
    if (race) e.oracle["receive_race"] = message_first ? "message_first" : "timeout_first";
  }
  emit(e);
  if (slot.wake_while_paused && !message_first) {
    slot.wake_while_paused = false;
    fire_wake(id);
  } else if (slot.wait == Wait::kReceive && !slot.mailbox.empty()) {
    slot.wake_while_paused = false;
    *slot.receive_out = std::move(slot.mailbox.front().message);
    slot.mailbox.pop_front();
    slot.wait = Wait::kNone;
    resume(id);
  }
}

void Simulator::Impl::on_partition(const QueuedEvent& q) {
  if (healed) return;
  const auto n = processes.size();
  const bool replayed = q.fault > 0;
  Partition p{next_partition_id++, std::vector<bool>(n), false};
  if (replayed) {
    p.side = decisions.partition_side(q.fault - 1);
    p.one_way = decisions.partition(q.fault - 1).one_way;
  } else {
    p.one_way = fault_prng.chance(profile.one_way_ppm);
    // A random split of the processes faults may touch, both sides non-empty.
    const auto members = partitionable();
    const auto m = members.size();
    const auto pivot = fault_prng.below(m);
    std::size_t in_a = 0;
    for (std::size_t k = 0; k < m; ++k) {
      p.side[members[k]] = (k == pivot) || fault_prng.chance(350'000);
      in_a += p.side[members[k]] ? 1 : 0;
    }
    if (in_a == m) p.side[members[(pivot + 1) % m]] = false;
  }
  auto pooled_e = make_event(kNoProcess, EventKind::kPartition);
  auto& e = *pooled_e;
  if (sim.tracing()) {
    nlohmann::json a = nlohmann::json::array();
    nlohmann::json b = nlohmann::json::array();
    for (const auto i : partitionable()) (p.side[i] ? a : b).push_back(processes[i].name);
    e.detail = {{"partition", p.id}, {"group_a", a}, {"group_b", b}, {"one_way", p.one_way}};
    if (p.one_way) e.detail["blocked"] = "a->b";
  }
  emit(e);
  PartitionFault fault{sim.true_now(), 0, {}, p.one_way};
  for (std::size_t i = 0; i < n; ++i) {
    if (p.side[i]) fault.group_a.push_back(processes[i].name);
  }
  fault.length = replayed ? decisions.partition(q.fault - 1).length
                          : fault_prng.between(milliseconds(1), profile.partition_length_max);
  decisions.record_partition(fault);
  QueuedEvent heal{now_plus(fault.length), 0, Scheduled::kHeal};
  heal.token = p.id;
  push(std::move(heal));
  partitions.push_back(std::move(p));
  if (replayed) {
    push_replayed(Scheduled::kPartition, kNoProcess, decisions.next_partition(sim.true_now()));
    return;
  }
  push(QueuedEvent{now_plus(fault_prng.between(milliseconds(1), 2 * profile.partition_every)), 0,
                   Scheduled::kPartition});
}

void Simulator::Impl::on_heal(const QueuedEvent& q) {
  for (auto it = partitions.begin(); it != partitions.end(); ++it) {
    if (it->id != q.token) continue;
    partitions.erase(it);
    auto pooled_e = make_event(kNoProcess, EventKind::kHeal);
    auto& e = *pooled_e;
    if (sim.tracing()) e.detail = {{"partition", q.token}};
    emit(e);
    return;
  }
}

}  // namespace seer::sim
