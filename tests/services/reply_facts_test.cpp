// Two services of one kind in a run number their replies each from 1: the oracle's facts on a
// reply are its own service's, never the other's (found by the sixteenth explain benchmark set,
// where 290 of one shard's 451 replies carried the other shard's transaction facts).
#include "seer/services/kv.hpp"
#include "seer/services/kv_client.hpp"
#include "seer/services/sql.hpp"
#include "seer/services/sql_client.hpp"
#include "seer/sim/simulator.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace seer::services {
namespace {

sim::RunConfig quiet_traced_run() {
  sim::RunConfig config;
  config.seed = 5;
  config.faults = std::vector<sim::FaultKind>{};
  config.record_trace = true;
  return config;
}

// Every event whose oracle carries a service's facts, as (sender, facts).
std::vector<std::pair<std::string, nlohmann::json>> service_facts(const sim::RunResult& r) {
  std::vector<std::pair<std::string, nlohmann::json>> out;
  for (const auto& text : r.trace_lines) {
    const auto j = nlohmann::json::parse(text);
    if (!j.contains("oracle") || !j["oracle"].contains("service")) continue;
    const auto kind = j.value("kind", "");
    // A reply's sender: the process of its send, the peer of its delivery, "from" of a drop.
    const std::string sender = kind == "send"      ? j.value("process", "")
                               : kind == "deliver" ? j.value("peer", "")
                                                   : j.value("from", "");
    out.emplace_back(sender, j["oracle"]["service"]);
  }
  return out;
}

// Built outside the coroutine: g++ 12 rejects a JSON initializer list inside one.
std::vector<SqlStatement> insert(const std::string& id) {
  return {{"INSERT INTO t VALUES (?1)", {id}, 1}};
}

TEST(ReplyFacts, TwoDatabasesRepliesCarryTheirOwnFacts) {
  sim::Simulator sim(quiet_traced_run());
  const std::vector<std::string> schema = {"CREATE TABLE t (id TEXT PRIMARY KEY)"};
  const auto a = add_sql_service(sim, "shard_a", SqlConfig{schema});
  const auto b = add_sql_service(sim, "shard_b", SqlConfig{schema});
  sim.add_process(
      "client",
      [&](sim::Env& env) -> sim::Task<void> {
        SqlClient to_a(env, a.process, sim::milliseconds(50));
        SqlClient to_b(env, b.process, sim::milliseconds(50));
        // shard_b's replies 1 to 3 exist before shard_a's 1 to 3 are sent.
        for (int i = 0; i < 3; ++i) {
          co_await to_b.transact(insert("b" + std::to_string(i)), "b-" + std::to_string(i));
        }
        for (int i = 0; i < 3; ++i) {
          co_await to_a.transact(insert("a" + std::to_string(i)), "a-" + std::to_string(i));
        }
      },
      {.crashable = false, .client = true});
  const auto r = sim.run();
  ASSERT_TRUE(r.ok());
  const auto facts = service_facts(r);
  ASSERT_EQ(facts.size(), 12U) << "each of six replies' send and delivery";
  for (const auto& [sender, f] : facts) {
    EXPECT_EQ(f.value("name", ""), sender) << f.dump();
    EXPECT_EQ(f.value("label", "").substr(0, 1), sender.substr(sender.size() - 1)) << f.dump();
  }
}

TEST(ReplyFacts, TwoKvStoresRepliesCarryTheirOwnFacts) {
  sim::Simulator sim(quiet_traced_run());
  const auto one = add_kv_service(sim, "kv_one", kv_config("linearizable"));
  const auto two = add_kv_service(sim, "kv_two", kv_config("linearizable"));
  sim.add_process("client",
                  [&](sim::Env& env) -> sim::Task<void> {
                    KvClient to_one(env, one.process, sim::milliseconds(50));
                    KvClient to_two(env, two.process, sim::milliseconds(50));
                    co_await to_one.put("k", 1);
                    co_await to_two.put("k", 2);
                    co_await to_two.put("k", 3);
                    co_await to_one.get("k");
                  },
                  {.crashable = false, .client = true});
  const auto r = sim.run();
  ASSERT_TRUE(r.ok());
  // kv_one's get answers 1 (its revision 1); kv_two's second put is its revision 2.
  int from_one = 0;
  int from_two = 0;
  for (const auto& [sender, f] : service_facts(r)) {
    if (sender == "kv_one") {
      ++from_one;
      EXPECT_LE(f.value("revision", 0), 1) << f.dump();
    } else {
      ASSERT_EQ(sender, "kv_two");
      ++from_two;
    }
  }
  EXPECT_GT(from_one, 0);
  EXPECT_GT(from_two, 0);
}

}  // namespace
}  // namespace seer::services
