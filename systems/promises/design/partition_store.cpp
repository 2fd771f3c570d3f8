#include "partition_store.hpp"

namespace seer::promises::design {

std::unique_ptr<PartitionStore> make_partition_store(sim::Env& env, const Variant& variant,
                                                     const Deployment& deployment,
                                                     std::deque<sim::Message>* stash,
                                                     std::uint64_t first_request) {
  if (variant.sql) return make_sql_partition_store(env, deployment, stash, first_request);
  return make_kv_partition_store(env, variant, deployment, stash, first_request);
}

std::function<std::unique_ptr<PartitionStore>(sim::Env&, std::deque<sim::Message>*)>
simulated_store(const Variant& variant, std::shared_ptr<const Deployment> deployment) {
  return [variant, deployment](sim::Env& env, std::deque<sim::Message>* stash) {
    return make_partition_store(env, variant, *deployment, stash, env.random());
  };
}

}  // namespace seer::promises::design
