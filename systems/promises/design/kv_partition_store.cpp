// The design's store: one KV key per origin, whole-partition values, blind puts or compare-and-set.
#include "partition_store.hpp"

#include "seer/services/kv.hpp"

#include <map>

namespace seer::promises::design {

namespace {

class KvPartitionStore final : public PartitionStore {
 public:
  KvPartitionStore(sim::Env& env, const Variant& variant, const Deployment& deployment,
                   std::deque<sim::Message>* stash, std::uint64_t first_request)
      : compare_and_set_(variant.compare_and_set),
        kv_(env, deployment.kv, kStoreTimeout, stash, first_request),
        shared_(deployment.decoded) {}

  sim::Task<std::optional<Partition>> read(std::string origin, bool fresh,
                                           std::optional<Footprint> footprint) override {
    auto shared = co_await read_shared(std::move(origin), fresh, std::move(footprint));
    if (!shared) co_return std::nullopt;
    co_return *shared;
  }

  sim::Task<SharedPartition> read_shared(std::string origin, bool fresh,
                                         std::optional<Footprint>) override {
    // The writers attach their decoded partition (a deferred value's is all there is to read).
    const auto r = co_await kv_.get_decoded(
        partition_key(origin), fresh ? services::KvRead::kLinearizable : services::KvRead::kAny);
    if (r.timed_out) co_return nullptr;
    if (r.status != services::KvStatus::kOk) {
      co_return std::make_shared<const Partition>(decode_partition(r));
    }
    // A revision names one write, so a partition read again at the revision this life last
    // decoded is that partition: decoding is most of a read's cost, and the sweeps re-read
    // unchanged origins every interval. (Only the simulation's speed; no behaviour depends on it.)
    auto& last = decoded_[origin];
    if (!last || last->revision != r.revision) {
      // Another server's write, most often: the run's readers may have decoded it already.
      last = shared_ ? shared_->find(origin, r.revision) : nullptr;
      if (!last) {
        last = std::make_shared<const Partition>(read_partition(r));
        if (shared_) shared_->keep(origin, last);
      }
    }
    co_return last;
  }

  // Not coroutines themselves: the call they stand for is the task returned (one coroutine
  // frame fewer per sweep read and per write).
  sim::Task<SharedPartition> read_due_shared(std::string origin, std::int64_t) override {
    return read_shared(std::move(origin), false, std::nullopt);
  }

  sim::Task<WriteOutcome> write(std::string origin, Partition before, State after,
                                std::int64_t clock) override {
    co_return co_await put(std::move(origin), before.revision, std::move(after), clock);
  }

  // Only the revision of `before` matters here: the shared partition is never copied.
  sim::Task<WriteOutcome> write_shared(std::string origin, SharedPartition before, State after,
                                       std::int64_t clock) override {
    const std::int64_t revision = before->revision;
    before.reset();
    return put(std::move(origin), revision, std::move(after), clock);
  }

  sim::Task<std::optional<std::vector<std::string>>> sweep_candidates(std::int64_t) override {
    // Shared, not copied: the sweeps list the keys every interval.
    const auto listed = co_await kv_.list_shared(std::string(kPartitionPrefix));
    if (listed.timed_out) co_return std::nullopt;
    std::vector<std::string> origins;
    for (const auto& key : *listed.value) {
      if (auto origin = origin_of_key(key.get_ref<const std::string&>())) {
        origins.push_back(std::move(*origin));
      }
    }
    co_return origins;
  }

 private:
  sim::Task<WriteOutcome> put(std::string origin, std::int64_t revision, State after,
                              std::int64_t clock) {
    const auto key = partition_key(origin);
    // What this write stores, decoded: kept below as if read once the write is known to have
    // applied, and in simulation attached to the write for the oracle (DecodedPartitionValue),
    // which encodes it only when something reads the stored bytes (a deferred write).
    auto partition = std::make_shared<Partition>(Partition{std::move(after), clock, 0});
    services::KvResult written;
    if (shared_) {
      auto decoded = std::make_shared<const DecodedPartitionValue>(
          std::shared_ptr<const State>(partition, &partition->state), clock);
      if (!compare_and_set_) {
        written = co_await kv_.put_deferred(key, std::move(decoded));
      } else if (revision == 0) {
        written = co_await kv_.create_deferred(key, std::move(decoded));
      } else {
        written = co_await kv_.update_deferred(key, std::move(decoded), revision);
      }
    } else {
      nlohmann::json value = encode_partition(partition->state, clock);
      if (!compare_and_set_) {
        written = co_await kv_.put(key, std::move(value));
      } else if (revision == 0) {
        written = co_await kv_.create(key, std::move(value));
      } else {
        written = co_await kv_.update(key, std::move(value), revision);
      }
    }
    if (written.timed_out) co_return WriteOutcome::kUnknown;
    if (!written.ok()) co_return WriteOutcome::kConflict;
    // The new revision names this write, so reading it back decodes to what was just encoded:
    // kept as if read, the next read of the origin at that revision skips the decoding.
    partition->revision = written.revision;
    auto& last = decoded_[origin];
    last = std::move(partition);
    if (shared_) shared_->keep(origin, last);
    co_return WriteOutcome::kWritten;
  }

  bool compare_and_set_;
  services::KvClient kv_;
  std::shared_ptr<DecodedPartitions> shared_;       // the run's, if any (simulation)
  std::map<std::string, SharedPartition> decoded_;  // origin -> the last partition read and decoded
};

}  // namespace

std::unique_ptr<PartitionStore> make_kv_partition_store(sim::Env& env, const Variant& variant,
                                                        const Deployment& deployment,
                                                        std::deque<sim::Message>* stash,
                                                        std::uint64_t first_request) {
  return std::make_unique<KvPartitionStore>(env, variant, deployment, stash, first_request);
}

}  // namespace seer::promises::design
