// Readers of the stores' ground truth for the oracle (oracle.hpp).
#include "oracle.hpp"
#include "partition.hpp"

#include "promises/concrete/sql_rows.hpp"

namespace seer::promises::design {

Truth kv_truth(std::shared_ptr<const services::VersionedStore> store,
               std::shared_ptr<DecodedPartitions> decoded) {
  auto seen = std::make_shared<std::int64_t>(0);
  // Not owning: the reader beside it in the oracle keeps the store alive.
  TruthVersion version = [store = store.get()] { return store->revision(); };
  TruthReader read = [store = std::move(store), decoded = std::move(decoded), seen] {
    std::vector<StoredRevision> out;
    const auto now = store->revision();
    if (now == *seen) return out;
    for (const auto& key : store->keys_at(now, std::string(kPartitionPrefix))) {
      const auto origin = origin_of_key(key);
      if (!origin) continue;
      // Versions are in revision order: those after `seen` are the last ones.
      const auto& versions = store->versions(key);
      auto version = versions.end();
      while (version != versions.begin() && (version - 1)->revision > *seen) --version;
      for (; version != versions.end(); ++version) {
        static const auto kNone = std::make_shared<const State>();
        std::shared_ptr<const State> state = kNone;
        const auto* written = dynamic_cast<const DecodedPartitionValue*>(version->decoded.get());
        if (version->exists && written) {
          state = written->state;  // the writer's own, not decoded again
        } else if (version->exists) {
          // Decoded once for the run: the oracle, then the servers that read it, share it.
          auto known = decoded ? decoded->find(*origin, version->revision) : nullptr;
          if (!known) {
            known = std::make_shared<const Partition>(
                decode_version(version->revision, version->encoded()));
            if (decoded) decoded->keep(*origin, known);
          }
          state = std::shared_ptr<const State>(known, &known->state);
        }
        out.push_back({*origin, version->revision, std::move(state)});
      }
    }
    *seen = now;
    return out;
  };
  return {std::move(read), std::move(version)};
}

Truth sql_truth(std::shared_ptr<const services::SqlDatabase> database) {
  auto seen = std::make_shared<std::size_t>(0);
  // Not owning, as kv_truth's.
  TruthVersion version = [database = database.get()] {
    return static_cast<std::int64_t>(database->committed().size());
  };
  TruthReader read = [database = std::move(database), seen] {
    std::vector<StoredRevision> out;
    const auto& committed = database->committed();
    static const std::string kWrite = "write ";
    for (; *seen < committed.size(); ++*seen) {
      const auto& label = committed[*seen];
      if (label.rfind(kWrite, 0) != 0) continue;
      const std::string origin = label.substr(kWrite.size());
      nlohmann::json results = nlohmann::json::array();
      for (const auto& step : concrete::read_origin(origin)) {
        results.push_back(database->query({step.sql, step.params, std::nullopt}));
      }
      auto stored = concrete::parse_origin(results);
      out.push_back(
          {origin, stored.revision, std::make_shared<const State>(std::move(stored.state))});
    }
    return out;
  };
  return {std::move(read), std::move(version)};
}

}  // namespace seer::promises::design
