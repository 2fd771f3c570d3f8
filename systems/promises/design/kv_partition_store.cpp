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
        kv_(env, deployment.kv, kStoreTimeout, stash, first_request) {}

  sim::Task<std::optional<Partition>> read(std::string origin, bool fresh,
                                           std::optional<Footprint>) override {
    const auto r = co_await kv_.get_shared(
        partition_key(origin), fresh ? services::KvRead::kLinearizable : services::KvRead::kAny);
    if (r.timed_out) co_return std::nullopt;
    if (r.status != services::KvStatus::kOk) co_return decode_partition(r);
    // A revision names one write, so a partition read again at the revision this life last
    // decoded is that partition: decoding is most of a read's cost, and the sweeps re-read
    // unchanged origins every interval. (Only the simulation's speed; no behaviour depends on it.)
    auto& last = decoded_[origin];
    if (last.revision != r.revision) last = decode_partition(r);
    co_return last;
  }

  sim::Task<WriteOutcome> write(std::string origin, Partition before, State after,
                                std::int64_t clock) override {
    const auto key = partition_key(origin);
    nlohmann::json value = encode_partition(after, clock);
    services::KvResult written;
    if (!compare_and_set_) {
      written = co_await kv_.put(key, std::move(value));
    } else if (before.revision == 0) {
      written = co_await kv_.create(key, std::move(value));
    } else {
      written = co_await kv_.update(key, std::move(value), before.revision);
    }
    if (written.timed_out) co_return WriteOutcome::kUnknown;
    co_return written.ok() ? WriteOutcome::kWritten : WriteOutcome::kConflict;
  }

  sim::Task<std::optional<std::vector<std::string>>> sweep_candidates(std::int64_t) override {
    const auto listed = co_await kv_.list(std::string(kPartitionPrefix));
    if (listed.timed_out) co_return std::nullopt;
    std::vector<std::string> origins;
    for (const auto& key : listed.value) {
      if (auto origin = origin_of_key(key.get<std::string>())) origins.push_back(*origin);
    }
    co_return origins;
  }

 private:
  bool compare_and_set_;
  services::KvClient kv_;
  std::map<std::string, Partition> decoded_;  // origin -> the last partition read and decoded
};

}  // namespace

std::unique_ptr<PartitionStore> make_kv_partition_store(sim::Env& env, const Variant& variant,
                                                        const Deployment& deployment,
                                                        std::deque<sim::Message>* stash,
                                                        std::uint64_t first_request) {
  return std::make_unique<KvPartitionStore>(env, variant, deployment, stash, first_request);
}

}  // namespace seer::promises::design
