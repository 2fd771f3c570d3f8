// Where the servers keep each origin's σ: the design's KV store (one key per origin, partition.hpp)
// or the concrete SQL (rows per origin, ../concrete/README.md). The server's algorithm is the same
// on both: read a partition, apply the request, write it back only if its revision still holds.
#pragma once

#include "design.hpp"
#include "partition.hpp"
#include "promises/model/footprint.hpp"

#include "seer/sim/env.hpp"
#include "seer/sim/task.hpp"

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace seer::promises::design {

enum class WriteOutcome { kWritten, kConflict, kUnknown };

class PartitionStore {
 public:
  virtual ~PartitionStore() = default;
  // The origin's partition; nullopt if the store did not answer in time. `fresh` asks for the
  // latest write's state (the validated variants' confirmation read). `footprint`, when given, is
  // the request's (model/footprint.hpp): a store may then return only the part of σ it reaches
  // (State::unloaded_promises), which the model steps exactly as the whole partition; the revision
  // and clock are the whole origin's either way.
  virtual sim::Task<std::optional<Partition>> read(std::string origin, bool fresh,
                                                   std::optional<Footprint> footprint) = 0;
  // The partition as a sweep at `now` (or at the origin's clock, if later) needs it. A store may
  // return only the part of σ due then (Partition::due_only); by default, the whole partition.
  virtual sim::Task<std::optional<Partition>> read_due(std::string origin, std::int64_t now) {
    (void)now;
    co_return co_await read(std::move(origin), false, std::nullopt);
  }
  // Stores `after` with `clock` (kNoClock: none kept), conditional on `before.revision` being the
  // latest when the variant uses compare-and-set. kUnknown: no answer, it may have happened.
  virtual sim::Task<WriteOutcome> write(std::string origin, Partition before, State after,
                                        std::int64_t clock) = 0;

  // read, read_due and write with the partition shared (nullptr: no answer in time), which the
  // simulation's server uses: a store that keeps the partitions it decoded hands out its own
  // instead of a copy (most reads change nothing: a sweep mostly finds nothing due). By default
  // they wrap the others.
  virtual sim::Task<SharedPartition> read_shared(std::string origin, bool fresh,
                                                 std::optional<Footprint> footprint) {
    auto read_partition = co_await read(std::move(origin), fresh, std::move(footprint));
    co_return share(std::move(read_partition));
  }
  virtual sim::Task<SharedPartition> read_due_shared(std::string origin, std::int64_t now) {
    auto read_partition = co_await read_due(std::move(origin), now);
    co_return share(std::move(read_partition));
  }
  virtual sim::Task<WriteOutcome> write_shared(std::string origin, SharedPartition before,
                                               State after, std::int64_t clock) {
    co_return co_await write(std::move(origin), unshare(before), std::move(after), clock);
  }

  // The origins a sweep at `now` looks at: every stored one, or only those with something due.
  virtual sim::Task<std::optional<std::vector<std::string>>> sweep_candidates(std::int64_t now) = 0;

 protected:
  static SharedPartition share(std::optional<Partition> read) {
    if (!read) return nullptr;
    return std::make_shared<Partition>(std::move(*read));
  }
  // The partition itself: moved out when `before` is the only owner of one share() made (not
  // created const, so moving from it is defined), else a copy.
  static Partition unshare(const SharedPartition& before) {
    if (before.use_count() == 1) return std::move(const_cast<Partition&>(*before));
    return *before;
  }
};

// ServerConfig::make_store for simulation: the variant's store on the deployment's simulated KV
// or SQL service, numbering each server life's requests from env.random() (so a restarted server
// never takes a late reply to its previous life's request for its own).
std::function<std::unique_ptr<PartitionStore>(sim::Env&, std::deque<sim::Message>*)>
simulated_store(const Variant& variant, std::shared_ptr<const Deployment> deployment);

// The variant's store. Replies that are not the store's go to `stash`; `first_request` numbers
// this life's requests (random, so a late reply to a previous life is never taken for ours).
std::unique_ptr<PartitionStore> make_partition_store(sim::Env& env, const Variant& variant,
                                                     const Deployment& deployment,
                                                     std::deque<sim::Message>* stash,
                                                     std::uint64_t first_request);

std::unique_ptr<PartitionStore> make_kv_partition_store(sim::Env& env, const Variant& variant,
                                                        const Deployment& deployment,
                                                        std::deque<sim::Message>* stash,
                                                        std::uint64_t first_request);
std::unique_ptr<PartitionStore> make_sql_partition_store(sim::Env& env,
                                                         const Deployment& deployment,
                                                         std::deque<sim::Message>* stash,
                                                         std::uint64_t first_request);

}  // namespace seer::promises::design
