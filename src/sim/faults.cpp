#include "seer/sim/faults.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace seer::sim {

const char* fault_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::kDelay:
      return "delay";
    case FaultKind::kReorder:
      return "reorder";
    case FaultKind::kDrop:
      return "drop";
    case FaultKind::kDuplicate:
      return "duplicate";
    case FaultKind::kPartition:
      return "partition";
    case FaultKind::kCrash:
      return "crash";
    case FaultKind::kPause:
      return "pause";
    case FaultKind::kClock:
      return "clock";
    case FaultKind::kTorn:
      return "torn";
    case FaultKind::kLostResponse:
      return "lost-response";
  }
  return "?";
}

const char* fault_description(FaultKind kind) {
  switch (kind) {
    case FaultKind::kDelay:
      return "per-link message latency drawn from a per-link range";
    case FaultKind::kReorder:
      return "latency spikes that let later messages overtake earlier ones";
    case FaultKind::kDrop:
      return "messages lost in the network";
    case FaultKind::kDuplicate:
      return "messages delivered twice";
    case FaultKind::kPartition:
      return "symmetric and one-way network partitions that heal";
    case FaultKind::kCrash:
      return "process crash (volatile state and unsynced writes lost) and restart";
    case FaultKind::kPause:
      return "process paused (not scheduled) for a while, then resumed";
    case FaultKind::kClock:
      return "per-process clock skew and drift";
    case FaultKind::kTorn:
      return "a crash persists a prefix of unsynced writes, the last maybe torn";
    case FaultKind::kLostResponse:
      return "a simulated service applies a request but drops its response";
  }
  return "?";
}

bool parse_fault_kind(const std::string& name, FaultKind& out) {
  for (auto kind : kAllFaultKinds) {
    if (name == fault_name(kind)) {
      out = kind;
      return true;
    }
  }
  return false;
}

bool FaultProfile::has(FaultKind kind) const {
  return std::find(enabled.begin(), enabled.end(), kind) != enabled.end();
}

namespace {

// Sets the fields of one fault kind. `level` in [1, 4] scales intensity (swarm draws it; pinned
// uses kDefaultLevel unless --faults KIND:LEVEL pins it).
void enable(FaultProfile& p, FaultKind kind, std::int64_t level) {
  switch (kind) {
    case FaultKind::kDelay:
      p.latency_min = microseconds(100);
      p.latency_max = milliseconds(2 * level);
      break;
    case FaultKind::kReorder:
      p.reorder_ppm = 20'000u * static_cast<std::uint32_t>(level);
      p.reorder_spike_max = milliseconds(20 * level);
      break;
    case FaultKind::kDrop:
      p.drop_ppm = 10'000u * static_cast<std::uint32_t>(level);
      break;
    case FaultKind::kDuplicate:
      p.duplicate_ppm = 10'000u * static_cast<std::uint32_t>(level);
      break;
    case FaultKind::kPartition:
      p.partition_every = milliseconds(400 / level);
      p.partition_length_max = milliseconds(150 * level);
      p.one_way_ppm = 300'000;
      break;
    case FaultKind::kCrash:
      p.crash_every = milliseconds(600 / level);
      p.restart_after_max = milliseconds(40 * level);
      break;
    case FaultKind::kPause:
      p.pause_every = milliseconds(500 / level);
      p.pause_length_max = milliseconds(50 * level);
      break;
    case FaultKind::kClock:
      p.clock_skew_max = milliseconds(50 * level);
      p.clock_drift_max_ppm = static_cast<std::int32_t>(2'000 * level);
      break;
    case FaultKind::kTorn:
      p.torn_ppm = 250'000u * static_cast<std::uint32_t>(level);
      break;
    case FaultKind::kLostResponse:
      p.lost_response_ppm = 20'000u * static_cast<std::uint32_t>(level);
      break;
  }
  if (!p.has(kind)) p.enabled.push_back(kind);
  p.levels[kind] = static_cast<int>(level);
}

}  // namespace

FaultProfile FaultProfile::with(const std::vector<FaultKind>& kinds,
                                const std::map<FaultKind, int>& levels) {
  FaultProfile p;
  for (auto kind : kinds) {
    const auto it = levels.find(kind);
    enable(p, kind, it == levels.end() ? kDefaultLevel : it->second);
  }
  return p;
}

std::string FaultProfile::spec_of(FaultKind kind, const std::map<FaultKind, int>& levels) {
  const auto it = levels.find(kind);
  std::string spec = fault_name(kind);
  if (it != levels.end()) spec += ":" + std::to_string(it->second);
  return spec;
}

FaultProfile FaultProfile::swarm(Prng& prng, Prng& service_prng) {
  FaultProfile p;
  for (auto kind : kAllFaultKinds) {
    Prng& draw = kind == FaultKind::kLostResponse ? service_prng : prng;
    if (draw.chance(500'000)) enable(p, kind, draw.between(1, 4));
  }
  return p;
}

std::vector<FaultKind> FaultProfile::parse_list(const std::string& spec,
                                                std::map<FaultKind, int>* levels) {
  std::vector<FaultKind> kinds;
  if (spec == "none") return kinds;
  if (spec == "all") return {std::begin(kAllFaultKinds), std::end(kAllFaultKinds)};
  std::stringstream in(spec);
  std::string name;
  while (std::getline(in, name, ',')) {
    std::optional<int> level;
    if (const auto colon = name.find(':'); colon != std::string::npos) {
      const std::string text = name.substr(colon + 1);
      name.resize(colon);
      int value = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
          value < kMinLevel || value > kMaxLevel) {
        throw std::invalid_argument("bad level '" + text + "' of fault '" + name + "': expected " +
                                    std::to_string(kMinLevel) + " to " + std::to_string(kMaxLevel));
      }
      if (!levels) throw std::invalid_argument("fault levels are not accepted here");
      level = value;
    }
    FaultKind kind;
    if (!parse_fault_kind(name, kind)) {
      std::string known;
      for (auto k : kAllFaultKinds) known += std::string(known.empty() ? "" : ", ") + fault_name(k);
      throw std::invalid_argument("unknown fault '" + name + "' (known: none, all, " + known + ")");
    }
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
    if (level) (*levels)[kind] = *level;
  }
  if (kinds.empty()) throw std::invalid_argument("empty fault list");
  return kinds;
}

nlohmann::json FaultProfile::to_json() const {
  nlohmann::json kinds = nlohmann::json::array();
  for (auto kind : enabled) kinds.push_back(fault_name(kind));
  nlohmann::json level_of = nlohmann::json::object();
  for (const auto& [kind, level] : levels) level_of[fault_name(kind)] = level;
  return {{"enabled", kinds},
          {"levels", level_of},
          {"latency_ns", {latency_min, latency_max}},
          {"reorder_ppm", reorder_ppm},
          {"reorder_spike_max_ns", reorder_spike_max},
          {"drop_ppm", drop_ppm},
          {"duplicate_ppm", duplicate_ppm},
          {"partition_every_ns", partition_every},
          {"partition_length_max_ns", partition_length_max},
          {"crash_every_ns", crash_every},
          {"restart_after_max_ns", restart_after_max},
          {"pause_every_ns", pause_every},
          {"pause_length_max_ns", pause_length_max},
          {"clock_skew_max_ns", clock_skew_max},
          {"clock_drift_max_ppm", clock_drift_max_ppm},
          {"torn_ppm", torn_ppm},
          {"lost_response_ppm", lost_response_ppm}};
}

}  // namespace seer::sim
