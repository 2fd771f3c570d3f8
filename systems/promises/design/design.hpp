// The promises design's shared vocabulary: its variants, the deployment every process is told
// about (which processes serve, where an address leads), and its timing constants.
#pragma once

#include "seer/sim/history.hpp"
#include "seer/sim/message.hpp"
#include "seer/sim/time.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace seer::promises::design {

// The journey from naive to final (NOTES.md): each variant repairs what seer found in the one
// before it.
struct Variant {
  std::string name;
  bool compare_and_set = false;  // writes are conditional on the revision read; else blind puts
  bool validate_reads = false;   // a request that changed nothing is answered only once a
                                 // linearizable read confirms the revision it was computed on
  bool partition_clock = false;  // now := max(local clock, the latest now the partition applied)
  bool sql = false;  // the concrete SQL (concrete/README.md) on the simulated SQL service, not KV
  // Requests carry the server life they were sent to (as an HTTP request belongs to one TCP
  // connection to one server process): a copy that reaches a later life is refused, not executed.
  bool fenced_connections = false;
  // A progress bug (liveness, not safety): a server sweeps only the origins it wrote, and forgets
  // an origin once a sweep of it finds nothing due, so a promise due later is never timed out
  // unless another write marks its origin again.
  bool sweep_only_dirty = false;
  // A progress bug (liveness): a worker whose call on its task got no answer gives up on the
  // function but keeps heartbeating the task, so that no one re-runs a function whose fulfil may
  // have taken effect. When the call had not, the task stays acquired under a live lease forever.
  bool keep_unanswered_tasks = false;
  // A progress bug (liveness): a worker's application registers its listener once and never again,
  // so an unblock that was lost (spec §7: sent once, fire and forget) is never made up for.
  bool listen_once = false;
  // The native target (concrete/postgres-native/README.md, native.hpp): no servers; each request
  // is one transaction of the database holding its origin's lock, messages go through an outbox
  // that nodes drain on NOTIFY wake-ups and a tick, and every node runs process_timeouts().
  bool native = false;
  // A safety bug of the native target: process_timeouts() reads an origin's due rows without its
  // lock and writes what it computed a few statements later, whatever committed in between.
  bool unlocked_sweep = false;
};
const std::vector<Variant>& variants();
const Variant& variant_named(const std::string& name);  // throws std::invalid_argument

// Model time is milliseconds since the Unix epoch; a process's clock starts at kEpochMs in
// simulation (production passes the wall clock at start).
inline constexpr std::int64_t kEpochMs = 1'700'000'000'000;
inline std::int64_t model_time(sim::Time local, std::int64_t epoch_ms = kEpochMs) {
  return epoch_ms + local / sim::milliseconds(1);
}

inline constexpr sim::Duration kStoreTimeout = sim::milliseconds(30);
inline constexpr sim::Duration kRequestTimeout = sim::milliseconds(200);  // the SDK's is 10 s
inline constexpr sim::Duration kServeBudget = sim::milliseconds(100);  // then the server gives up
inline constexpr sim::Duration kSweepEvery = sim::milliseconds(200);   // the SDK's local one: 1 s
// How often an application re-registers the listeners of the promises it awaits (the SDK's
// subscribeEvery, 60 s: it makes up for a lost unblock, spec §7).
inline constexpr sim::Duration kListenAgain = sim::milliseconds(500);
// How often a worker heartbeats the tasks it keeps between functions (Variant::
// keep_unanswered_tasks; the SDK heartbeats every ttl/2, and a worker's ttl is at least 150 ms).
inline constexpr sim::Duration kBeatEvery = sim::milliseconds(60);

// Addresses (spec §8) and where they lead: "poll://any@workers" to one worker, chosen at random;
// "poll://uni@<group>/<name>" to that process.
inline constexpr const char* kWorkers = "poll://any@workers";
std::string unicast_address(const std::string& group, const std::string& name);

class DecodedPartitions;  // partition.hpp

struct Deployment {
  sim::ProcessId kv = sim::kNoProcess;
  sim::ProcessId sql = sim::kNoProcess;  // the SQL variant's database instead
  std::vector<sim::ProcessId> servers;
  std::map<std::string, std::vector<sim::ProcessId>> addresses;
  // If set, messages go there as AddressedMessage instead of through `addresses` (production:
  // who listens at an address changes as workers connect and leave).
  sim::ProcessId mailroom = sim::kNoProcess;
  bool fenced_connections = false;  // Variant::fenced_connections
  // Simulation, KV variants: the partitions the run's readers decoded (partition.hpp).
  std::shared_ptr<DecodedPartitions> decoded;
};

// Numbers the history's processes. A process that leaves an operation open (a timeout, a crash)
// continues under a fresh number, since one history process has one operation at a time. Test
// bookkeeping shared by the run's processes, not algorithm state.
class HistoryIds {
 public:
  explicit HistoryIds(int first = 0) : next_(first) {}
  int fresh() { return next_++; }

 private:
  int next_ = 0;
};

// Which promises each process's application awaits, by process name: test bookkeeping like
// HistoryIds (the processes write it, the oracle reads it for listeners-learn; no design code
// reads it). A process's waits die with it: a new life forgets its predecessor's.
class Awaiting {
 public:
  void start(const std::string& process, const std::string& id) { open_[process].insert(id); }
  void end(const std::string& process, const std::string& id) { open_[process].erase(id); }
  void forget(const std::string& process) { open_.erase(process); }
  const std::map<std::string, std::set<std::string>>& open() const { return open_; }

 private:
  std::map<std::string, std::set<std::string>> open_;
};

// What the oracle is told when a process gets a response (simulation bookkeeping: the design's
// code never reads it).
using ResponseObserver =
    std::function<void(const nlohmann::json& request, const nlohmann::json& response)>;

}  // namespace seer::promises::design
