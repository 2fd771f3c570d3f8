// The KV store's read options (docs/services.md): on a stale-reading store, a linearizable get or
// list always sees the latest write, while an ordinary one may not and is then marked; a list
// returns the keys under its prefix and names the ones a stale view missed.
#include "seer/services/kv.hpp"
#include "seer/sim/simulator.hpp"

#include <gtest/gtest.h>

namespace seer::services {
namespace {

struct Seen {
  int reads = 0;
  int stale = 0;  // reads that missed a write acknowledged before they were sent
  int wrong_lists = 0;
};

// One writer-reader: writes k/0..k/n one by one, and after each write reads back the newest key
// and lists the prefix, with the given read option.
sim::Task<void> writer_reader(sim::Env& env, sim::ProcessId kv, KvRead read, int keys, Seen& seen) {
  KvClient client(env, kv, sim::milliseconds(50));
  for (int i = 0; i < keys; ++i) {
    const std::string key = "k/" + std::to_string(100 + i);
    const auto w = co_await client.put(key, i);
    if (!w.ok()) co_return;
    const auto r = co_await client.get(key, read);
    if (r.timed_out) continue;
    ++seen.reads;
    if (r.status != KvStatus::kOk || r.value != i) ++seen.stale;
    const auto l = co_await client.list("k/", read);
    if (l.timed_out) continue;
    if (!l.value.is_array() || l.value.size() != static_cast<std::size_t>(i + 1)) {
      ++seen.wrong_lists;
    } else if (l.value.back() != key || l.value.front() != "k/100") {
      ++seen.wrong_lists;  // in key order, the newest last
    }
  }
}

Seen run(std::uint64_t seed, KvRead read, bool trace = false,
         std::vector<std::string>* lines = nullptr) {
  sim::RunConfig config;
  config.seed = seed;
  config.faults = std::vector<sim::FaultKind>{};
  config.record_trace = trace;
  sim::Simulator sim(config);
  const auto kv = add_kv_service(sim, "kv", kv_config("stale"));
  Seen seen;
  sim.add_process("client",
                  [&](sim::Env& env) { return writer_reader(env, kv.process, read, 12, seen); },
                  {.crashable = false, .client = true});
  auto result = sim.run();
  EXPECT_TRUE(result.ok());
  if (lines) *lines = result.trace_lines;
  return seen;
}

TEST(KvReads, LinearizableReadsAndListsNeverMissAWrite) {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    const auto seen = run(seed, KvRead::kLinearizable);
    ASSERT_EQ(seen.reads, 12) << "seed " << seed;
    EXPECT_EQ(seen.stale, 0) << "seed " << seed;
    EXPECT_EQ(seen.wrong_lists, 0) << "seed " << seed;
  }
}

TEST(KvReads, OrdinaryReadsAndListsOnAStaleStoreSometimesMissAWrite) {
  int stale = 0;
  int wrong_lists = 0;
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    const auto seen = run(seed, KvRead::kAny);
    stale += seen.stale;
    wrong_lists += seen.wrong_lists;
  }
  EXPECT_GT(stale, 50);
  EXPECT_GT(wrong_lists, 50);
}

TEST(KvReads, AStaleListNamesTheKeysItMissed) {
  std::vector<std::string> lines;
  run(3, KvRead::kAny, true, &lines);
  int stale_lists = 0;
  for (const auto& line : lines) {
    const auto e = nlohmann::json::parse(line);
    if (e["kind"] != "deliver" || e["type"] != "kv_reply") continue;
    const auto& f = e["oracle"]["service"];
    if (f["op"] != "list") continue;
    const auto& keys = e["payload"]["value"];
    EXPECT_EQ(f["stale"].get<bool>(), !f["missing"].empty());
    for (const auto& missing : f["missing"]) {
      EXPECT_EQ(std::find(keys.begin(), keys.end(), missing), keys.end());
    }
    stale_lists += f["stale"].get<bool>() ? 1 : 0;
  }
  EXPECT_GT(stale_lists, 0);
}

}  // namespace
}  // namespace seer::services
