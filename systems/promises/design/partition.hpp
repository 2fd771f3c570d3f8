// How the design keeps σ in the KV store: one key per origin ("p/<origin>"), whose value is that
// origin's part of the state (state_codec) and, in the final design, the latest `now` applied to
// it. Partitioning by origin is how Resonate partitions (spec §10): every request the SDK sends
// names ids of one origin, so each request reads and writes exactly one key.
#pragma once

#include "promises/model/state.hpp"
#include "seer/services/kv_client.hpp"

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace seer::promises::design {

inline constexpr std::string_view kPartitionPrefix = "p/";
inline constexpr std::int64_t kNoClock = std::numeric_limits<std::int64_t>::min();

struct Partition {
  State state;
  std::int64_t clock = kNoClock;       // the latest `now` applied to it, if the design keeps one
  std::int64_t revision = 0;           // the revision it was read at (0: not stored yet)
  std::int64_t timeout_positions = 0;  // SQL store: one past the largest task_timeouts position
  // PartitionStore::read_due's partial partition: it holds what is due at max(the time asked,
  // clock), so the sweep must tick at that time and no later.
  bool due_only = false;
};

std::string partition_key(std::string_view origin);
// The origin a partition key stands for, or nullopt for another key.
std::optional<std::string> origin_of_key(std::string_view key);

using SharedPartition = std::shared_ptr<const Partition>;

// A partition write's value as the writer encoded it, attached to the KV write for the simulated
// store to keep beside the version (services::DecodedValue): the oracle reads the store's ground
// truth from it instead of decoding the value. Only the simulation's speed: the stored value is
// encode_partition's, and no design code reads this back from the store. The simulated writer
// defers the encoding to it (services::EncodableValue): the store encodes it only if something
// reads the bytes (a recorded trace), and they are encode_partition's either way.
struct DecodedPartitionValue final : services::EncodableValue {
  explicit DecodedPartitionValue(std::shared_ptr<const State> s, std::int64_t c = kNoClock)
      : state(std::move(s)), clock(c) {}
  std::shared_ptr<const State> state;  // never null
  std::int64_t clock;                  // the value's "clock" (Partition::clock)
  nlohmann::json encode() const override;
};

// The partition a KV get read, decoded: from the version's decoded value if its writer attached
// one (a copy of the state, which costs a fraction of decoding; the value is that state's
// encoding, so both are the same), else decoded from the value. Only the simulation's speed.
Partition read_partition(const services::KvSharedResult& read);

// The KV store's partitions as a simulated run's readers decoded them (its servers' stores and
// the oracle): a revision names one write, so the partition of an origin at a revision is the
// same for every reader, and only the first decodes it (or the writer, which knows what it
// wrote). Keeps each origin's latest. Only the simulation's speed: no behaviour depends on it.
class DecodedPartitions {
 public:
  // The origin's partition at `revision`, if kept.
  SharedPartition find(const std::string& origin, std::int64_t revision) const;
  // Kept unless a later revision of the origin is (a stale read decodes an older one).
  void keep(const std::string& origin, SharedPartition partition);

 private:
  std::map<std::string, SharedPartition> latest_;
};

nlohmann::json encode_partition(const State& state, std::int64_t clock);
// A stored version's partition (its value, written at `revision`). Throws std::invalid_argument if
// the value is corrupt.
Partition decode_version(std::int64_t revision, const nlohmann::json& value);
// From a KV get's result (ok or not_found). Throws std::invalid_argument if the value is corrupt.
Partition decode_partition(const services::KvSharedResult& read);
// The state in a stored value (for the oracle, which reads the store's ground truth).
State decode_state(const nlohmann::json& value);

}  // namespace seer::promises::design
