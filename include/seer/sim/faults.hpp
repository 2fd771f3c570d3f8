// Fault profiles: which kinds of partial order and partial failure a run injects, and how hard.
//
// Probabilities are integer parts-per-million so no floating point enters a run. Swarm testing:
// unless a profile is pinned with --faults, each seed draws its own subset of fault kinds and
// intensities, which finds bugs that a single "everything at once" profile hides (Groce et al.,
// "Swarm Testing", ISSTA 2012).
#pragma once

#include "seer/sim/prng.hpp"
#include "seer/sim/time.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace seer::sim {

enum class FaultKind : std::uint8_t {
  kDelay,         // variable per-link message latency
  kReorder,       // occasional latency spikes that let later messages overtake earlier ones
  kDrop,          // message loss
  kDuplicate,     // a message delivered twice
  kPartition,     // symmetric and one-way partitions, healed later
  kCrash,         // process crash (volatile state and unsynced writes lost) and restart
  kPause,         // process stops being scheduled for a while (GC pause, VM stall)
  kClock,         // clock skew and drift per process
  kTorn,          // on crash, a prefix of the unsynced writes persists, the last possibly truncated
  kLostResponse,  // a simulated service applies a request but its response never leaves
};

constexpr FaultKind kAllFaultKinds[] = {
    FaultKind::kDelay,     FaultKind::kReorder,     FaultKind::kDrop,  FaultKind::kDuplicate,
    FaultKind::kPartition, FaultKind::kCrash,       FaultKind::kPause, FaultKind::kClock,
    FaultKind::kTorn,      FaultKind::kLostResponse};

const char* fault_name(FaultKind kind);
const char* fault_description(FaultKind kind);
// Parses a fault name; returns false if unknown.
bool parse_fault_kind(const std::string& name, FaultKind& out);

struct FaultProfile {
  // Network latency of every message: uniform in [min, max] (kDelay widens the range per link).
  Duration latency_min = microseconds(500);
  Duration latency_max = microseconds(500);
  std::uint32_t reorder_ppm = 0;  // chance a message gets a latency spike
  Duration reorder_spike_max = 0;
  std::uint32_t drop_ppm = 0;
  std::uint32_t duplicate_ppm = 0;
  // Partitions: mean gap between partition events and how long one lasts.
  Duration partition_every = 0;  // 0: never
  Duration partition_length_max = 0;
  std::uint32_t one_way_ppm = 0;  // share of partitions that block one direction only
  // Crashes: mean time between crashes per crashable process; down time before restart.
  Duration crash_every = 0;
  Duration restart_after_max = 0;
  Duration pause_every = 0;
  Duration pause_length_max = 0;
  Duration clock_skew_max = 0;           // |offset| of a process clock
  std::int32_t clock_drift_max_ppm = 0;  // |rate error| of a process clock
  std::uint32_t torn_ppm = 0;  // chance a crash tears the unsynced writes instead of dropping them
  std::uint32_t lost_response_ppm = 0;  // chance a service drops the response to an applied request
  Duration sync_latency = microseconds(200);

  std::vector<FaultKind> enabled;   // for reporting
  std::map<FaultKind, int> levels;  // each enabled kind's intensity level, for reporting

  bool has(FaultKind kind) const;
  nlohmann::json to_json() const;

  // Intensity levels: 1 (mild) to 4 (hard). Swarm draws one per kind; a pinned kind gets
  // kDefaultLevel unless its level is pinned too (--faults clock:3).
  static constexpr int kMinLevel = 1;
  static constexpr int kMaxLevel = 4;
  static constexpr int kDefaultLevel = 2;
  // A profile with exactly these kinds, at `levels` where given, else at kDefaultLevel.
  static FaultProfile with(const std::vector<FaultKind>& kinds,
                           const std::map<FaultKind, int>& levels = {});
  // Swarm testing: a random subset of kinds at random intensities, drawn from the seed. Service
  // faults (kLostResponse) are drawn from `service_prng`, a stream of their own, so that adding
  // them did not change the network and process faults any existing seed draws.
  static FaultProfile swarm(Prng& prng, Prng& service_prng);
  // Parses "none", "all" or a comma list of fault names, each optionally with its level
  // ("clock:3,drop"); the levels go to `levels` if given (else a level is an error). Throws
  // std::invalid_argument.
  static std::vector<FaultKind> parse_list(const std::string& spec,
                                           std::map<FaultKind, int>* levels = nullptr);
  // A kind as --faults writes it: "clock", or "clock:3" if its level is in `levels`.
  static std::string spec_of(FaultKind kind, const std::map<FaultKind, int>& levels);
};

}  // namespace seer::sim
