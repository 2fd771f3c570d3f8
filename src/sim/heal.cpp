// The heal phase: once every client has returned, a system with liveness properties has its faults
// stopped and everything they broke brought back, and each property must come true within its
// bound (TigerBeetle's VOPR liveness mode; P's hot states, bounded). Everything here is a function
// of the run so far: a replay heals at the same event and the same way, with no draw or decision.
#include "process_env.hpp"

#include <algorithm>
#include <cstdio>

namespace seer::sim {

namespace {

std::string seconds_text(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f s", static_cast<double>(d) / 1e9);
  return buf;
}

}  // namespace

bool Simulator::Impl::liveness_pending() const {
  return config.heal && liveness_left > 0;
}

void Simulator::Impl::heal_all() {
  healed = true;
  healed_at = sim.now_;
  update_liveness_deadline();
  nlohmann::json restarted = nlohmann::json::array();
  nlohmann::json resumed = nlohmann::json::array();
  // A client that returned before it crashed is done: the heal leaves it down (every other client
  // has returned too, or there would be no heal).
  const auto restarts = [](const ProcessSlot& slot) {
    return !slot.up && !(slot.options.client && slot.finished) && !slot.options.starts_at_heal;
  };
  nlohmann::json starting = nlohmann::json::array();
  for (const auto& slot : processes) {
    if (restarts(slot)) restarted.push_back(slot.name);
    if (slot.up && slot.paused) resumed.push_back(slot.name);
    if (slot.options.starts_at_heal) starting.push_back(slot.name);
  }
  auto pooled_e = make_event(kNoProcess, EventKind::kAnnotation);
  auto& e = *pooled_e;
  if (sim.tracing()) {
    nlohmann::json properties = nlohmann::json::array();
    for (const auto& l : liveness) properties.push_back({{"name", l.name}, {"bound_ns", l.bound}});
    e.detail = {{"what", "heal"}};
    e.oracle = {{"restarting", restarted},
                {"resuming", resumed},
                {"partitions_healing", partitions.size()},
                {"liveness", properties}};
    if (!starting.empty()) e.oracle["starting"] = starting;
  }
  emit(e);
  for (const auto& p : partitions) {
    auto pooled_h = make_event(kNoProcess, EventKind::kHeal);
    auto& h = *pooled_h;
    if (sim.tracing()) h.detail = {{"partition", p.id}};
    emit(h);
  }
  partitions.clear();
  // Clocks keep the offset they reached and stop drifting (no jump: a process's clock reads on
  // from where it was).
  for (auto& slot : processes) {
    slot.clock_offset += sim.now_ * slot.clock_drift_ppm / 1'000'000;
    slot.clock_drift_ppm = 0;
  }
  for (std::size_t i = 0; i < processes.size() && !violation; ++i) {
    auto& slot = processes[i];
    const auto id = static_cast<ProcessId>(i);
    if (restarts(slot)) {
      start_process(id, EventKind::kRestart);
    } else if (slot.up && slot.paused) {
      end_pause(id, false);  // a timeout that fired in the pause goes first: no draw
    }
  }
  // Last, so that what they see is what the restarts and resumes left (a final read after
  // recovery, not beside it).
  for (std::size_t i = 0; i < processes.size() && !violation; ++i) {
    if (processes[i].options.starts_at_heal) {
      start_process(static_cast<ProcessId>(i), EventKind::kStart);
    }
  }
}

void Simulator::Impl::check_liveness() {
  if (violation) return;
  for (auto& l : liveness) {
    if (l.held) continue;
    if (!l.check(l.last_awaited)) continue;
    l.held = true;
    --liveness_left;
    update_liveness_deadline();
    // An event of its own (hashed, traced or not): the timeline shows when each property came true.
    auto pooled_e = make_event(kNoProcess, EventKind::kAnnotation);
    auto& e = *pooled_e;
    if (sim.tracing()) {
      e.detail = {{"what", "liveness_held"}};
      e.oracle = {{"property", l.name}, {"after_heal_ns", sim.now_ - healed_at}};
    }
    emit(e);
  }
}

void Simulator::Impl::update_liveness_deadline() {
  std::optional<Time> earliest;
  for (const auto& l : liveness) {
    if (l.held) continue;
    const Time due = healed_at + l.bound;
    if (!earliest || due < *earliest) earliest = due;
  }
  next_liveness_deadline = earliest;
}

void Simulator::Impl::record_liveness_failure(Time deadline, const char* why) {
  if (violation) return;
  sim.now_ = std::max(sim.now_, deadline);
  for (const auto& l : liveness) {
    if (l.held || (!why && healed_at + l.bound > deadline)) continue;
    std::string message = "not within " + seconds_text(l.bound) + " of the heal at " +
                          seconds_text(healed_at) + ": " +
                          (l.last_awaited ? l.last_awaited->text : std::string("no progress"));
    if (why) message += std::string(" (") + why + ")";
    violation = Violation{
        l.name,       std::move(message),
        next_seq - 1, sim.now_,
        true,         l.last_awaited ? l.last_awaited->entities : std::vector<std::string>{}};
    return;
  }
}

}  // namespace seer::sim
