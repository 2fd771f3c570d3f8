// The real KV and SQL servers behind the unchanged KvClient and SqlClient, over TcpNodes on
// loopback: the protocol's answers (conflicts, revisions, lists, rolled-back transactions), and a
// KV store restarted on its directory still has every acknowledged write.
#include "seer/runtime/servers.hpp"
#include "seer/runtime/file_storage.hpp"
#include "seer/runtime/tcp_node.hpp"
#include "seer/services/kv_client.hpp"
#include "seer/services/sql_client.hpp"
#include "seer/sqlite/connection.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <thread>

namespace seer::runtime {
namespace {


NodeConfig deployment() { return NodeConfig::loopback({"locks", "db", "client"}); }

// A server process on its own thread, until destroyed.
struct Server {
  Server(const NodeConfig& config, const std::string& name, sim::Storage* storage,
         const std::function<sim::Task<void>(sim::Env&)>& serve)
      : node(config, name, storage), thread([this, serve] { node.run(serve(node.env())); }) {}
  ~Server() {
    node.stop();
    thread.join();
  }
  TcpNode node;
  std::thread thread;
};

std::string temp_path(const std::string& leaf) {
  const auto p = std::filesystem::path(::testing::TempDir()) / ("servers_test_" + leaf);
  std::filesystem::remove_all(p);
  return p.string();
}

constexpr sim::Duration kTimeout = sim::seconds(5);

// The first life of the store: each call's result, in order.
sim::Task<void> first_life(sim::Env& env, sim::ProcessId locks,
                           std::vector<services::KvResult>& out) {
  services::KvClient kv(env, locks, kTimeout);
  const nlohmann::json one = {{"token", 1}};
  const nlohmann::json two = {{"token", 2}};
  const std::string lock = "lock";
  out.push_back(co_await kv.create(lock, one));     // 0: created at revision 1
  out.push_back(co_await kv.create(lock, two));     // 1: conflict
  out.push_back(co_await kv.update(lock, two, 7));  // 2: conflict, wrong revision
  out.push_back(co_await kv.update(lock, two, 1));  // 3: updated at revision 2
  out.push_back(co_await kv.put("other", 5));       // 4: revision 3
  out.push_back(co_await kv.put("zz", 6));          // 5: revision 4
  out.push_back(co_await kv.remove("zz"));          // 6: revision 5
  out.push_back(co_await kv.remove("zz"));          // 7: not found
  out.push_back(co_await kv.list(""));              // 8: lock, other
}

// After the restart: the lock as written, then one more write.
sim::Task<void> second_life(sim::Env& env, sim::ProcessId locks,
                            std::vector<services::KvResult>& out) {
  services::KvClient kv(env, locks, kTimeout, nullptr, 1000);
  // A first request may go down the connection to the old server and be lost: ask again.
  services::KvResult got;
  for (int i = 0; i < 50; ++i) {
    got = co_await kv.get("lock", services::KvRead::kLinearizable);
    if (!got.timed_out) break;
  }
  out.push_back(got);
  out.push_back(co_await kv.put("after", 1));
}

TEST(KvServer, AnswersAsTheSimulatedStoreDoesAndKeepsAcknowledgedWritesAcrossRestarts) {
  const auto config = deployment();
  const auto dir = temp_path("kv");
  TcpNode client(config, "client");
  const auto locks = client.id_of("locks");
  std::vector<services::KvResult> r;
  {
    FileStorage storage(dir);
    Server kv(config, "locks", &storage, [](sim::Env& env) { return serve_kv(env); });
    client.run(first_life(client.env(), locks, r));
  }
  ASSERT_EQ(r.size(), 9U);
  EXPECT_TRUE(r[0].ok());
  EXPECT_EQ(r[0].revision, 1);
  EXPECT_EQ(r[1].status, services::KvStatus::kConflict);
  EXPECT_EQ(r[1].revision, 1);
  EXPECT_EQ(r[2].status, services::KvStatus::kConflict);
  EXPECT_TRUE(r[3].ok());
  EXPECT_EQ(r[3].revision, 2);
  EXPECT_EQ(r[6].revision, 5);
  EXPECT_EQ(r[7].status, services::KvStatus::kNotFound);
  EXPECT_EQ(r[8].value, nlohmann::json::array({"lock", "other"}));
  EXPECT_EQ(r[8].revision, 5);

  FileStorage storage(dir);  // the store restarted on its directory
  Server kv(config, "locks", &storage, [](sim::Env& env) { return serve_kv(env); });
  r.clear();
  client.run(second_life(client.env(), locks, r));
  ASSERT_EQ(r.size(), 2U);
  EXPECT_TRUE(r[0].ok());
  EXPECT_EQ(r[0].value, nlohmann::json({{"token", 2}}));
  EXPECT_EQ(r[0].revision, 2);
  EXPECT_EQ(r[1].revision, 6);  // revisions go on from where they were
}

sim::Task<void> three_transactions(sim::Env& env, sim::ProcessId db,
                                   std::vector<services::SqlResult>& out) {
  services::SqlClient sql(env, db, kTimeout);
  const auto none = nlohmann::json::array();
  std::vector<services::SqlStatement> increment = {
      {"UPDATE counter SET value = value + 1 WHERE id = 1", none, 1}};
  std::vector<services::SqlStatement> guarded = {
      {"UPDATE counter SET value = 100 WHERE id = 1", none, std::nullopt},
      {"UPDATE counter SET value = 0 WHERE id = 2", none, 1}};
  std::vector<services::SqlStatement> read = {
      {"SELECT value FROM counter WHERE id = 1", none, std::nullopt}};
  out.push_back(co_await sql.transact(std::move(increment), "inc"));
  out.push_back(co_await sql.transact(std::move(guarded), "guarded"));
  out.push_back(co_await sql.transact(std::move(read), "read"));
}

TEST(SqlServer, RunsEachRequestAsOneTransaction) {
  const auto config = deployment();
  sqlite::Connection db(temp_path("sql.db"));
  db.exec("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)");
  db.exec("INSERT INTO counter VALUES (1, 0)");
  Server server(config, "db", nullptr, [&db](sim::Env& env) { return serve_sql(env, db); });
  TcpNode client(config, "client");
  std::vector<services::SqlResult> r;
  client.run(three_transactions(client.env(), client.id_of("db"), r));
  ASSERT_EQ(r.size(), 3U);
  EXPECT_TRUE(r[0].committed);
  EXPECT_EQ(r[0].changes, std::vector<std::int64_t>{1});
  EXPECT_FALSE(r[1].committed);  // the second statement changed no row: all of it rolled back
  EXPECT_EQ(r[1].failed_statement, 1U);
  EXPECT_TRUE(r[2].committed);
  EXPECT_EQ(r[2].results, nlohmann::json::array({nlohmann::json::array({{1}})}));
}

}  // namespace
}  // namespace seer::runtime
