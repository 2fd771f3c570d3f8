// What only the simulator can know about the promises design: the store's ground truth (every
// revision of every partition) against the spec's invariants, and every response a process was
// given against that truth. The design's code never sees any of it.
#pragma once

#include "promises/model/state.hpp"
#include "seer/services/sql.hpp"
#include "seer/services/versioned_store.hpp"
#include "seer/sim/simulator.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace seer::promises::design {

class DecodedPartitions;  // partition.hpp

// One committed state of an origin's partition.
struct StoredRevision {
  std::string origin;
  std::int64_t revision = 0;
  std::shared_ptr<const State> state;  // shared: a reader may hold it already (never null)
};
// The store's ground truth: the revisions committed since the last call, in commit order.
using TruthReader = std::function<std::vector<StoredRevision>()>;
// A number that changes whenever the store commits, so that the oracle asks the reader only then:
// it looks after every event, several times, and most events commit nothing.
using TruthVersion = std::function<std::int64_t()>;
struct Truth {
  TruthReader read;
  TruthVersion version;  // if empty, the reader is asked every time
};
// Every revision of every `p/<origin>` key of the KV store.
// `decoded`, if given: partitions already decoded (partition.hpp), used instead of decoding again.
Truth kv_truth(std::shared_ptr<const services::VersionedStore> store,
               std::shared_ptr<DecodedPartitions> decoded = nullptr);
// The origins the SQL database committed a write to (transactions labelled "write <origin>"), as
// they are after it. The oracle runs after every event and a database commits at most one
// transaction per event, so no committed state is missed.
Truth sql_truth(std::shared_ptr<const services::SqlDatabase> database);

class Oracle {
 public:
  explicit Oracle(TruthReader truth);
  explicit Oracle(Truth truth);

  // The oracle's invariants, in the order violated() reports them (Simulator::add_invariants):
  enum Invariant : std::size_t {
    // spec §9.1 I1-I14 on every partition the store holds.
    kStateInvariants,
    // spec §9.2 T1-T3, T5, T6 across the store's successive revisions: no promise or task
    // disappears, a promise's immutable fields never change, a settled promise never changes,
    // task versions never decrease, a fulfilled task never changes.
    kSettledOnce,
    // What responses claimed and the store must hold: an acknowledged create exists, an
    // acknowledged settled state is the stored one (spec H5).
    kAcknowledgedDurable,
    // spec H6: no task version is granted twice.
    kOneGrantPerVersion,
  };
  // The first of the invariants that does not hold, reading what the store committed since the
  // last call; nullopt while all hold. Checked after every event, most of which commit nothing and
  // answer nothing: then it costs a look at the store's version and four tests.
  std::optional<sim::InvariantFailure> violated();

  void observe(const nlohmann::json& request, const nlohmann::json& response);

  // Liveness: the stored targeted promises (the sweep's to time out, spec 3.3) still pending
  // though their timeout (model time, ms) is at or before `due_by`, the first by timeout named
  // with its id; nullopt if none.
  std::optional<sim::Finding> pending_past(std::int64_t due_by);
  // Liveness: tasks still acquired under a lease that expired at or before `due_by` (a worker
  // that died or stopped heartbeating still holds them), the first by expiry named with its id.
  std::optional<sim::Finding> leases_past(std::int64_t due_by);
  // Liveness: the tasks that still have to run, each with its state and version: pending or
  // acquired, their promise pending in the store (a suspended task waits for other promises, a
  // halted one for an operator).
  std::map<std::string, std::string> running_tasks();
  // Those of `running` (running_tasks() at some earlier time) not done since: fulfilled (their
  // promise settled), suspended or halted. The first by id is named, with what it was then.
  // Answered again without looking when neither the store nor `running` (the same map, unchanged
  // in place) changed since the last call.
  std::optional<sim::Finding> unfinished(const std::map<std::string, std::string>& running);
  // unfinished() in place (sim::ProgressUpdate): true when it would say nullopt; else false, with
  // its finding in `awaited`, copied there only when it changed since the last call, which must
  // have been given the same `awaited`.
  bool finished(const std::map<std::string, std::string>& running,
                std::optional<sim::Finding>& awaited);
  // Liveness: the (process, promise) waits in `open` whose promise is settled in the store.
  std::set<std::pair<std::string, std::string>> settled_waits(
      const std::map<std::string, std::set<std::string>>& open);
  // Those of `waits` (settled_waits() at some earlier time) still open: the process has not
  // learned the promise settled. The first is named.
  std::optional<sim::Finding> unlearned(const std::set<std::pair<std::string, std::string>>& waits,
                                        const std::map<std::string, std::set<std::string>>& open);

 private:
  void advance();  // reads the revisions written since the last call
  std::optional<sim::InvariantFailure> violated_after_change();  // violated() past its fast path
  void compare(const std::string& origin, const State& before, const State& after,
               std::int64_t revision);
  const Promise* stored(const std::string& id) const;

  TruthReader truth_;
  TruthVersion version_;
  std::optional<std::int64_t> version_read_;  // version_() when truth_ was last asked
  // origin -> its partition at the latest revision (never null); found by an id's origin_of view
  std::map<std::string, std::shared_ptr<const State>, std::less<>> latest_;
  std::set<std::string> changed_;  // origins written since violated() last checked them
  std::optional<std::string> invariant_;
  std::optional<std::string> transition_;
  std::optional<std::string> acknowledged_;
  std::optional<std::string> fencing_;
  std::map<std::pair<std::string, std::int64_t>, std::string> grants_;  // (task, version) -> pid
  std::uint64_t revisions_ = 0;  // revisions advance() has read: the truth changes with it
  struct UnfinishedMemo {        // unfinished()'s last finding and what it was made of
    std::string id;
    std::string then;
    Task task;
    int left = 0;
    std::optional<sim::Finding> finding;
    std::uint64_t generation = 0;  // counts the findings made
    std::uint64_t handed = 0;      // the generation finished() last copied out
    // What the last answer was computed from: the revisions read, the map asked about.
    const std::map<std::string, std::string>* running = nullptr;
    std::size_t running_size = 0;
    std::uint64_t revisions = 0;
    bool answered = false;
  };
  UnfinishedMemo unfinished_memo_;
  // unfinished()'s answer, the memo's own (nullopt: none unfinished).
  const std::optional<sim::Finding>& unfinished_memo(
      const std::map<std::string, std::string>& running);
};

}  // namespace seer::promises::design
