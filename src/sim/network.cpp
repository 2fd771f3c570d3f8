// The simulated network: latency, loss, duplication, reordering and partitions, decided by the
// seed.
#include "process_env.hpp"
#include "seer/assert.hpp"

namespace seer::sim {

namespace {
constexpr std::size_t kRecentDeliveries = 32;  // window for reporting which messages overtook one
}

Link& Simulator::Impl::link(ProcessId from, ProcessId to) {
  return links[static_cast<std::size_t>(from) * processes.size() + static_cast<std::size_t>(to)];
}

Duration Simulator::Impl::draw_latency(Link& l, bool spikes) {
  if (l.latency_max == 0) {
    l.latency_max = profile.has(FaultKind::kDelay)
                        ? net_prng.between(profile.latency_min, profile.latency_max)
                        : profile.latency_max;
    if (l.latency_max <= 0) l.latency_max = 1;
  }
  Duration latency = net_prng.between(std::min(profile.latency_min, l.latency_max), l.latency_max);
  if (spikes && net_prng.chance(profile.reorder_ppm)) {
    latency += net_prng.between(0, profile.reorder_spike_max);
  }
  return latency;
}

bool Simulator::Impl::blocked(ProcessId from, ProcessId to) const {
  for (const auto& p : partitions) {
    if (p.side[from] == p.side[to]) continue;
    if (!p.one_way || p.side[from]) return true;
  }
  return false;
}

void Simulator::Impl::send(ProcessId from, ProcessId to, PayloadPtr body, CodeSite at) {
  if (to < 0 || static_cast<std::size_t>(to) >= processes.size()) {
    throw std::out_of_range("send to unknown process " + std::to_string(to));
  }
  Message message{from, to, next_message_id++, std::move(body)};
  auto pooled_e = make_event(from, EventKind::kSend);
  auto& e = *pooled_e;
  e.peer = to;
  e.message = message.id;
  e.payload = &message;
  e.site = at;
  const auto send_seq = emit(e);

  Link& l = link(from, to);
  const std::uint64_t index = l.sent++;
  MessageFate fate;
  if (decisions.replaying()) {
    fate = decisions.message(from, to, index);
  } else if (healed) {
    fate.latency = draw_latency(l, false);  // the network delivers: no loss, copies or spikes
  } else {
    // The draws' order is part of every seed's meaning: drop, duplicate, latency, copy's latency.
    fate.drop = net_prng.chance(profile.drop_ppm);
    if (!fate.drop) {
      const bool duplicate = net_prng.chance(profile.duplicate_ppm);
      fate.latency = draw_latency(l);
      if (duplicate) fate.duplicate_latency = draw_latency(l);
    }
  }
  decisions.record_message(from, to, index, fate);
  if (fate.drop) {
    auto pooled_d = make_event(kNoProcess, EventKind::kDrop);
    auto& d = *pooled_d;
    d.peer = to;
    d.message = message.id;
    d.cause = send_seq;
    d.payload = &message;
    if (sim.tracing()) d.detail = {{"reason", "loss"}, {"from", processes[from].name}};
    emit(d);
    return;
  }
  QueuedEvent& q = queue.add(now_plus(fate.latency), Scheduled::kDeliver);
  q.token = send_seq;
  q.sent_at = sim.true_now();
  q.link_index = index;
  if (!fate.duplicate_latency) {
    q.message = std::move(message);
    return;
  }
  q.message = message;
  auto pooled_d = make_event(kNoProcess, EventKind::kDuplicate);
  auto& d = *pooled_d;
  d.peer = to;
  d.message = message.id;
  d.cause = send_seq;
  d.payload = &message;
  emit(d);
  QueuedEvent& copy = queue.add(now_plus(*fate.duplicate_latency), Scheduled::kDeliver);
  copy.token = send_seq;
  copy.sent_at = sim.true_now();
  copy.link_index = index;
  copy.duplicate = true;
  copy.message = std::move(message);
}

void Simulator::Impl::on_deliver(QueuedEvent& q) {
  const ProcessId to = q.message.to;
  const ProcessId from = q.message.from;
  SEER_ASSERT(to >= 0 && static_cast<std::size_t>(to) < processes.size() && from >= 0 &&
                  static_cast<std::size_t>(from) < processes.size(),
              "a delivered message's processes are in range");
  auto& target = processes[to];
  const char* drop_reason = nullptr;
  if (blocked(from, to)) {
    drop_reason = "partition";
  } else if (!target.up) {
    drop_reason = "receiver_down";
  }
  if (drop_reason) {
    auto pooled_d = make_event(kNoProcess, EventKind::kDrop);
    auto& d = *pooled_d;
    d.peer = to;
    d.message = q.message.id;
    d.cause = q.token;
    d.payload = &q.message;
    if (sim.tracing()) d.detail = {{"reason", drop_reason}, {"from", processes[from].name}};
    emit(d);
    return;
  }
  ++delivered;
  auto pooled_e = make_event(to, EventKind::kDeliver);
  auto& e = *pooled_e;
  e.peer = from;
  e.message = q.message.id;
  e.cause = q.token;
  e.payload = &q.message;
  const bool to_waiter = target.wait == Wait::kReceive && !target.paused;
  if (to_waiter) e.site = target.wait_site;  // the receive it wakes
  if (sim.tracing()) {
    Link& l = link(from, to);
    // Forbidden facts: how long it was in flight and which later messages on this link overtook it.
    nlohmann::json overtaken = nlohmann::json::array();
    for (const auto& [index, id] : l.recent) {
      if (index > q.link_index) overtaken.push_back(id);
    }
    e.oracle = {{"in_flight_ns", sim.true_now() - q.sent_at}, {"reordered", !overtaken.empty()}};
    if (!overtaken.empty()) e.oracle["overtaken_by"] = overtaken;
    if (q.duplicate) e.oracle["duplicate"] = true;
    // Only the oracle reads them: a run that records nothing keeps none.
    l.recent.emplace_back(q.link_index, q.message.id);
    if (l.recent.size() > kRecentDeliveries) l.recent.erase(l.recent.begin());
  }
  const auto seq = emit(e);
  if (to_waiter) {
    SEER_ASSERT(target.receive_out, "a process waiting to receive has a place for the message");
    // A waiting receiver's mailbox is empty (it would not wait otherwise): the message goes to it
    // directly, not through the mailbox.
    SEER_ASSERT(target.mailbox.empty(), "a process waits to receive only with an empty mailbox");
    *target.receive_out = std::move(q.message);
    target.wait = Wait::kNone;
    resume(to);
    return;
  }
  target.mailbox.push_back({std::move(q.message), seq});
}

}  // namespace seer::sim
