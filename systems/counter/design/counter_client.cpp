#include "counter_client.hpp"

namespace seer::systems::counter {

namespace {

constexpr sim::Duration kTimeout = sim::milliseconds(50);
const char* const kKey = "counter";

std::int64_t as_count(const services::KvResult& r) {
  return r.status == services::KvStatus::kOk ? r.value.get<std::int64_t>() : 0;
}

// One increment. Returns true if acknowledged, false if its outcome is unknown.
sim::Task<bool> increment(services::KvClient& kv, Strategy strategy) {
  for (;;) {
    const auto read = co_await kv.get(kKey);
    if (read.timed_out) continue;  // nothing written yet: safe to try again
    const std::int64_t next = as_count(read) + 1;
    services::KvResult write;
    if (strategy == Strategy::kNaive) {
      write = co_await kv.put(kKey, next);
    } else if (read.status == services::KvStatus::kNotFound) {
      write = co_await kv.create(kKey, next);
    } else {
      write = co_await kv.update(kKey, next, read.revision);
    }
    if (write.ok()) co_return true;
    if (write.timed_out && strategy != Strategy::kCasRetry) co_return false;
    // Conflict (someone else incremented first), or kCasRetry after a timeout: the lost response
    // may hide a write that happened, and this loop then increments a second time.
  }
}

}  // namespace

sim::Task<void> run_counter_client(sim::Env& env, sim::HistoryRecorder& history,
                                   CounterClientConfig config) {
  services::KvClient kv(env, config.store, kTimeout);
  int process = config.id;
  for (int i = 0; i < config.increments; ++i) {
    co_await env.sleep(sim::milliseconds(1) + static_cast<sim::Duration>(env.random() % 3'000'000));
    history.invoke(process, "add", 1);
    if (config.on_start) config.on_start(config.id);
    const bool acked = co_await increment(kv, config.strategy);
    if (config.on_end) config.on_end(config.id, acked);
    if (acked) {
      history.complete(process, sim::OpType::kOk, "add", 1);
    } else {
      history.complete(process, sim::OpType::kInfo, "add", 1, "timeout");
      process += config.clients;
    }
  }
}

}  // namespace seer::systems::counter
