// Process and network faults over time: crashes and restarts, pauses, partitions and heals, clock
// skew.
#include "process_env.hpp"

namespace seer::sim {

void Simulator::Impl::schedule_initial_faults() {
  const auto n = static_cast<ProcessId>(processes.size());
  for (ProcessId id = 0; id < n; ++id) {
    auto& slot = processes[id];
    if (profile.has(FaultKind::kClock)) {
      slot.clock_offset = fault_prng.between(-profile.clock_skew_max, profile.clock_skew_max);
      slot.clock_drift_ppm = static_cast<std::int32_t>(
          fault_prng.between(-profile.clock_drift_max_ppm, profile.clock_drift_max_ppm));
    }
    if (!slot.options.crashable) continue;
    if (profile.crash_every > 0) {
      QueuedEvent q{fault_prng.between(milliseconds(1), 2 * profile.crash_every), 0,
                    Scheduled::kCrash};
      q.process = id;
      push(std::move(q));
    }
    if (profile.pause_every > 0) {
      QueuedEvent q{fault_prng.between(milliseconds(1), 2 * profile.pause_every), 0,
                    Scheduled::kPause};
      q.process = id;
      push(std::move(q));
    }
  }
  if (profile.partition_every > 0 && n >= 2) {
    push(QueuedEvent{fault_prng.between(milliseconds(1), 2 * profile.partition_every), 0,
                     Scheduled::kPartition});
  }
}

void Simulator::Impl::on_crash(const QueuedEvent& q) {
  auto& slot = processes[q.process];
  if (!slot.up) return;
  auto e = make_event(q.process, EventKind::kCrash);
  const bool torn = fault_prng.chance(profile.torn_ppm);
  // Forbidden facts: what the crash took away. Computed even when not tracing so the draws stay
  // identical.
  auto lost = slot.disk.crash(fault_prng, torn);
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
  if (!slot.finished) {
    slot.root.reset();  // destroys every coroutine frame of the process: its volatile state
  } else {
    slot.root.reset();
    slot.finished = false;
  }
  emit(e);
  QueuedEvent r{now_plus(fault_prng.between(milliseconds(1), profile.restart_after_max)), 0,
                Scheduled::kRestart};
  r.process = q.process;
  push(std::move(r));
}

void Simulator::Impl::on_restart(const QueuedEvent& q) {
  start_process(q.process, EventKind::kRestart);
  QueuedEvent c{now_plus(fault_prng.between(milliseconds(1), 2 * profile.crash_every)), 0,
                Scheduled::kCrash};
  c.process = q.process;
  push(std::move(c));
}

void Simulator::Impl::on_pause(const QueuedEvent& q) {
  auto& slot = processes[q.process];
  if (slot.up && !slot.paused) {
    slot.paused = true;
    slot.paused_at = sim.true_now();
    const Duration length = fault_prng.between(milliseconds(1), profile.pause_length_max);
    auto e = make_event(q.process, EventKind::kPause);
    if (sim.tracing()) e.oracle = {{"pause_ns", length}};
    emit(e);
    QueuedEvent r{now_plus(length), 0, Scheduled::kResume};
    r.process = q.process;
    r.incarnation = slot.incarnation;
    push(std::move(r));
  }
  QueuedEvent next{now_plus(fault_prng.between(milliseconds(1), 2 * profile.pause_every)), 0,
                   Scheduled::kPause};
  next.process = q.process;
  push(std::move(next));
}

void Simulator::Impl::on_resume(const QueuedEvent& q) {
  auto& slot = processes[q.process];
  if (!slot.up || !slot.paused || slot.incarnation != q.incarnation) return;
  slot.paused = false;
  auto e = make_event(q.process, EventKind::kResume);
  if (sim.tracing()) {
    e.oracle = {{"paused_ns", sim.true_now() - slot.paused_at},
                {"mailbox_waiting", slot.mailbox.size()}};
  }
  emit(e);
  if (slot.wake_while_paused) {
    slot.wake_while_paused = false;
    fire_wake(q.process);
  } else if (slot.wait == Wait::kReceive && !slot.mailbox.empty()) {
    *slot.receive_out = std::move(slot.mailbox.front().message);
    slot.mailbox.pop_front();
    slot.wait = Wait::kNone;
    resume(q.process);
  }
}

void Simulator::Impl::on_partition(const QueuedEvent&) {
  const auto n = processes.size();
  Partition p{next_partition_id++, std::vector<bool>(n), fault_prng.chance(profile.one_way_ppm)};
  // A random split with both sides non-empty.
  const auto pivot = fault_prng.below(n);
  std::size_t in_a = 0;
  for (std::size_t i = 0; i < n; ++i) {
    p.side[i] = (i == pivot) || fault_prng.chance(350'000);
    in_a += p.side[i] ? 1 : 0;
  }
  if (in_a == n) p.side[(pivot + 1) % n] = false;
  auto e = make_event(kNoProcess, EventKind::kPartition);
  if (sim.tracing()) {
    nlohmann::json a = nlohmann::json::array();
    nlohmann::json b = nlohmann::json::array();
    for (std::size_t i = 0; i < n; ++i) (p.side[i] ? a : b).push_back(processes[i].name);
    e.detail = {{"partition", p.id}, {"group_a", a}, {"group_b", b}, {"one_way", p.one_way}};
    if (p.one_way) e.detail["blocked"] = "a->b";
  }
  emit(e);
  QueuedEvent heal{now_plus(fault_prng.between(milliseconds(1), profile.partition_length_max)), 0,
                   Scheduled::kHeal};
  heal.token = p.id;
  push(std::move(heal));
  partitions.push_back(std::move(p));
  push(QueuedEvent{now_plus(fault_prng.between(milliseconds(1), 2 * profile.partition_every)), 0,
                   Scheduled::kPartition});
}

void Simulator::Impl::on_heal(const QueuedEvent& q) {
  for (auto it = partitions.begin(); it != partitions.end(); ++it) {
    if (it->id != q.token) continue;
    partitions.erase(it);
    auto e = make_event(kNoProcess, EventKind::kHeal);
    if (sim.tracing()) e.detail = {{"partition", q.token}};
    emit(e);
    return;
  }
}

}  // namespace seer::sim
