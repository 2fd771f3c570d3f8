// wallclock_order: settings synced across a user's devices, last writer wins by wall clock.
//
// Spec. Three devices (phone, laptop, tablet) change the user's settings (`setting/theme`,
// `setting/language`) in the KV store. Each value is stored as {value, ts, device}, `ts` taken from
// the device's clock; a device reads the setting (linearizable) and writes its value with a
// compare-and-set only if its `ts` is newer than the stored one; otherwise its change is older
// than what is stored and is dropped (last writer wins). The change is acknowledged either way.
// Invariant `last-writer-wins`: when a change is acknowledged, the setting does not hold a change
// that had been acknowledged before this one began ("setting/theme: laptop's change laptop-7
// (begun at 53.200ms) lost to phone's phone-5, acknowledged at 50.100ms, before it began").
// Operations (history): `set` per change.
//
// Bug (variant `buggy`): device clocks are skewed. A device whose clock is behind the previous
// writer's takes its later change for an older one and drops it (or: the previous writer's clock
// ran ahead and its timestamp is in the future).
// Fix (variant `fixed`): a hybrid logical clock: ts = max(own clock, stored ts + 1), so a change
// made after another is always newer.
// Faults: delay, clock.
#include "design.hpp"
#include "trace_lookup.hpp"

#include "seer/services/kv.hpp"

#include <cstdio>
#include <map>

namespace seer::bench::explain {

using seer::explain::EventKind;

namespace wallclock_order {

constexpr sim::Duration kTimeout = sim::milliseconds(50);
const char* const kDevices[] = {"phone", "laptop", "tablet"};
const char* const kSettings[] = {"setting/theme", "setting/language"};

struct Change {
  std::string device;
  sim::Time begun = 0;
  sim::Time acked = -1;  // -1: not yet
};

struct Oracle {
  const sim::Simulator* sim = nullptr;
  std::shared_ptr<const services::VersionedStore> truth;
  std::map<std::string, Change> changes;  // value -> change
  std::string violation;

  void begin(const std::string& value, const std::string& device) {
    changes[value] = {device, sim->true_now(), -1};
  }
  void acked(const std::string& key, const std::string& value) {
    auto& mine = changes[value];
    mine.acked = sim->true_now();
    const auto stored = truth->latest(key);
    if (!stored.exists || !violation.empty()) return;
    const auto held = stored.value.value("value", "");
    if (held == value) return;
    const auto& other = changes[held];
    if (other.acked >= 0 && other.acked < mine.begun) {
      violation = key + ": " + mine.device + "'s change " + value + " (begun at " + ms(mine.begun) +
                  ") lost to " + other.device + "'s " + held + ", acknowledged at " +
                  ms(other.acked) + ", before it began";
    }
  }
  static std::string ms(sim::Time t) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3fms", static_cast<double>(t) / 1e6);
    return buf;
  }
};

sim::Task<void> device(sim::Env& env, sim::HistoryRecorder& history, sim::ProcessId kv_store,
                       bool fixed, int id, int changes, std::shared_ptr<Oracle> oracle) {
  services::KvClient kv(env, kv_store, kTimeout);
  const std::string me = kDevices[id];
  for (int n = 0; n < changes; ++n) {
    co_await env.sleep(sim::milliseconds(2) + static_cast<sim::Duration>(env.random() % 8'000'000));
    const std::string key = kSettings[env.random() % 2];
    const std::string value = me + "-" + std::to_string(n);
    history.invoke(id, "set", nlohmann::json::array({key, value}));
    oracle->begin(value, me);
    bool superseded = false;
    for (;;) {
      const auto got = co_await kv.get(key, services::KvRead::kLinearizable);
      if (got.timed_out) continue;
      const bool found = got.status == services::KvStatus::kOk;
      if (found && got.value.value("value", "") == value) break;  // an earlier attempt landed
      std::int64_t ts = env.now();
      if (found) {
        const auto stored_ts = got.value["ts"].get<std::int64_t>();
        if (fixed) {
          ts = std::max(ts, stored_ts + 1);
        } else if (ts <= stored_ts) {
          superseded = true;  // older than what is stored: last writer wins
          break;
        }
      }
      nlohmann::json entry;
      entry["value"] = value;
      entry["ts"] = ts;
      entry["device"] = me;
      const auto put =
          found ? co_await kv.update(key, entry, got.revision) : co_await kv.create(key, entry);
      if (put.ok()) break;
    }
    history.complete(id, sim::OpType::kOk, "set", nlohmann::json::array({key, value}),
                     superseded ? "superseded" : "");
    oracle->acked(key, value);
  }
}

class System final : public sim::System {
 public:
  sim::SystemInfo info() const override {
    return {"wallclock_order",
            "three devices sync settings through a KV store, last writer wins by device clock",
            {"buggy", "fixed"},
            {{"last-writer-wins",
              "an acknowledged change is not lost to one acknowledged before it began"}},
            {{"kv", {"linearizable"}}}};
  }

  void setup(sim::Simulator& sim, const std::string& variant) const override {
    const bool fixed = variant == "fixed";
    const auto kv = services::add_kv_service(sim, "kv", services::kv_config("linearizable"));
    auto oracle = std::make_shared<Oracle>();
    oracle->sim = &sim;
    oracle->truth = kv.truth;
    auto& history = sim.history();
    const int devices = sim.config().clients_or(3);
    for (int d = 0; d < devices; ++d) {
      const int share = sim.config().ops / devices + (d < sim.config().ops % devices ? 1 : 0);
      sim.add_process(kDevices[d],
                      [&history, k = kv.process, fixed, d, share, oracle](sim::Env& env) {
                        return device(env, history, k, fixed, d, share, oracle);
                      },
                      {.crashable = false, .client = true});
    }
    sim.add_invariant("last-writer-wins", [oracle]() -> std::optional<std::string> {
      if (oracle->violation.empty()) return std::nullopt;
      return oracle->violation;
    });
  }
};

// Label. From the message: the setting K, the lost change's device B and value, the winning change
// W. The cause: the write of W (the store's reply to its create or update: where it took effect,
// with the timestamp from its device's clock), B's read of K that returned W (the last before B's
// change was acknowledged: B compared its clock with W's timestamp there), and B's acknowledgment
// of its change as superseded (the history's completion: the decision).
std::vector<std::uint64_t> key_events(const Trace& trace) {
  const std::string msg = violation_message(trace);
  const std::string key = between(msg, "", ": ");
  const std::string device = between(msg, ": ", "'s change ");
  const std::string value = between(msg, "'s change ", " (begun at ");
  const std::string winner = between(between(msg, " lost to ", ""), "'s ", ", acknowledged");
  if (key.empty() || device.empty() || value.empty() || winner.empty()) return {};
  const auto* write = find_first(trace, [&](const TraceEvent& e) {
    if (e.kind != EventKind::kSend || e.type != "kv_reply" || process_of(trace, e) != "kv" ||
        payload(e).value("status", "") != "ok") {
      return false;
    }
    const auto* req = request_send_for(trace, e);
    if (!req) return false;
    const auto& p = payload(*req);
    const auto op = p.value("op", "");
    return (op == "create" || op == "update") && p.value("key", "") == key && p.contains("value") &&
           p["value"].value("value", "") == winner;
  });
  const auto* done = find_first(trace, [&](const TraceEvent& e) {
    return process_of(trace, e) == device && e.kind == EventKind::kComplete &&
           e.line.value("value", nlohmann::json()) == nlohmann::json::array({key, value});
  });
  if (!write || !done) return {};
  const auto* read = find_last(
      trace,
      [&](const TraceEvent& e) {
        if (process_of(trace, e) != device || e.kind != EventKind::kDeliver ||
            e.type != "kv_reply") {
          return false;
        }
        const auto& v = payload(e).value("value", nlohmann::json());
        return v.is_object() && v.value("value", "") == winner;
      },
      done->seq);
  if (!read) return {};
  return {write->seq, read->seq, done->seq};
}

}  // namespace wallclock_order

Design make_wallclock_order() {
  Design d;
  d.name = "wallclock_order";
  d.bug =
      "last-writer-wins by device clocks drops a later change from a device whose clock is "
      "behind";
  d.system = std::make_unique<wallclock_order::System>();
  d.invariant = "last-writer-wins";
  d.faults = {sim::FaultKind::kDelay, sim::FaultKind::kClock};
  d.ops = 45;
  d.label.kinds = {"clock_behind", "clock_ahead"};
  d.label.why_several =
      "last-writer-wins compares two clocks: the later change is dropped because its device's "
      "clock is behind the earlier writer's, which is the same fact as the earlier writer's clock "
      "being ahead; which one is 'wrong' against true time is incidental to the bug";
  d.label.key_events = wallclock_order::key_events;
  return d;
}

}  // namespace seer::bench::explain
