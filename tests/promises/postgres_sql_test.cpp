// The concrete SQL on PostgreSQL 15: the same statements as on SQLite (renumbered `$N`), the same
// rows <-> σ mapping along random request sequences, the guard under a concurrent writer, the
// sweep's query, and a connection lost mid-way (an error, then a new session). The schemas may
// differ only in spelling. Tests needing the server skip without SEER_POSTGRES_URL; ctest starts a
// cluster for them (tests/promises/postgres_cluster.sh).
#include "promises/concrete/sql_rows.hpp"
#include "promises/model/model.hpp"
#include "random_requests.hpp"
#include "seer/postgres/connection.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <random>
#include <regex>

namespace {

using json = nlohmann::json;
using seer::postgres::Access;
using seer::postgres::Connection;
using seer::promises::State;
using seer::promises::concrete::StoredOrigin;
namespace concrete = seer::promises::concrete;

TEST(PostgresDialect, ParametersAreRenumberedOutsideQuotes) {
  EXPECT_EQ(seer::postgres::dollar_parameters("SELECT ?1, '?2', \"a?3\", ?10 WHERE x = ?"),
            "SELECT $1, '?2', \"a?3\", $10 WHERE x = ?");
  EXPECT_EQ(seer::postgres::dollar_parameters("SELECT 'it''s ?1', ?2"), "SELECT 'it''s ?1', $2");
}

// Comments, the types' names, SQLite's WITHOUT ROWID and the generated column's expression (each
// dialect's JSON functions) aside, the two files are the same text.
std::string normalized(std::string schema) {
  schema = std::regex_replace(schema, std::regex("--[^\n]*"), "");
  schema = std::regex_replace(schema, std::regex("GENERATED ALWAYS AS \\(.*?\\) (VIRTUAL|STORED)"),
                              "GENERATED ALWAYS AS (...)");
  schema = std::regex_replace(schema, std::regex("\\bINTEGER\\b"), "BIGINT");
  schema = std::regex_replace(schema, std::regex("\\s*WITHOUT ROWID"), "");
  schema = std::regex_replace(schema, std::regex("\\s+"), " ");
  return schema;
}

TEST(ConcreteSchemas, DifferOnlyInTheDialectsSpelling) {
  const auto sqlite = normalized(concrete::sqlite_schema());
  EXPECT_EQ(sqlite, normalized(concrete::postgres_schema()));
  EXPECT_NE(sqlite.find("CREATE INDEX promises_due"), std::string::npos);
}

class PostgresSql : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* cluster = std::getenv("SEER_POSTGRES_URL");
    if (!cluster || !*cluster) GTEST_SKIP() << "no PostgreSQL cluster (SEER_POSTGRES_URL)";
    admin_ = std::make_unique<Connection>(cluster);
    name_ = "seer_sql_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (auto& c : name_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    admin_->exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    admin_->exec("CREATE DATABASE " + name_);
    const std::string url(cluster);
    url_ = url.substr(0, url.rfind('/') + 1) + name_;
    db_ = std::make_unique<Connection>(url_);
    db_->exec(concrete::postgres_schema());
  }
  void TearDown() override {
    db_.reset();
    if (admin_) admin_->exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }

  StoredOrigin load(Connection& db, const std::string& origin) {
    const auto read = db.transact(concrete::read_origin(origin), Access::kRead);
    EXPECT_TRUE(read.committed) << read.error;
    return concrete::parse_origin(read.results);
  }

  std::unique_ptr<Connection> admin_;
  std::unique_ptr<Connection> db_;
  std::string name_;
  std::string url_;
};

TEST_F(PostgresSql, EveryReachedStateIsStoredAndReadBackEqual) {
  std::mt19937_64 seeds(7);
  int writes = 0;
  for (int sequence = 0; sequence < 10; ++sequence) {
    const std::string origin = "o" + std::to_string(sequence);
    seer::promises::testing::Generator gen(seeds(), origin + ":");
    State state;
    StoredOrigin stored = load(*db_, origin);
    std::int64_t now = 1'700'000'000'000;
    for (int i = 0; i < 150; ++i) {
      now += gen.advance();
      const json r = gen.next(now, state);
      seer::promises::apply(state, r, now);
      if (state == stored.state) continue;
      const auto outcome =
          db_->transact(concrete::write_origin(origin, stored, state, now), Access::kWrite);
      ASSERT_TRUE(outcome.committed) << outcome.error << " after " << r.dump();
      ++writes;
      const StoredOrigin back = load(*db_, origin);
      ASSERT_EQ(back.state, state) << "after " << r.dump();
      EXPECT_EQ(back.revision, stored.revision + 1);
      EXPECT_EQ(back.clock, now);
      stored = back;
    }
  }
  EXPECT_GT(writes, 150);
}

TEST_F(PostgresSql, TheGuardRefusesAStaleRevisionAndWritesNothing) {
  using seer::promises::testing::create;
  State first;
  seer::promises::apply(first, create("a", 5000), 100);
  const StoredOrigin empty = load(*db_, "o");
  ASSERT_TRUE(
      db_->transact(concrete::write_origin("o", empty, first, 100), Access::kWrite).committed);
  // A second writer that read the empty origin too: its create of the origin row must fail.
  State other;
  seer::promises::apply(other, create("b", 5000), 101);
  const auto lost = db_->transact(concrete::write_origin("o", empty, other, 101), Access::kWrite);
  EXPECT_FALSE(lost.committed);
  EXPECT_TRUE(lost.guard_failed) << lost.error;
  // Two writers that read revision 1, on two connections: the second's guard finds it moved.
  const StoredOrigin at1 = load(*db_, "o");
  State second = at1.state;
  seer::promises::apply(second, create("c", 5000), 102);
  Connection other_server(url_);
  ASSERT_TRUE(other_server.transact(concrete::write_origin("o", at1, second, 102), Access::kWrite)
                  .committed);
  State third = at1.state;
  seer::promises::apply(third, create("d", 5000), 103);
  const auto stale = db_->transact(concrete::write_origin("o", at1, third, 103), Access::kWrite);
  EXPECT_TRUE(stale.guard_failed) << stale.error;
  const StoredOrigin now = load(*db_, "o");
  EXPECT_EQ(now.state, second);
  EXPECT_EQ(now.revision, 2);
}

// A database created before the `branch` column gets it at the server's start (the upgrade runs
// again as a no-op), and a preload's read finds the branch's promises by it.
TEST_F(PostgresSql, TheBranchColumnIsAddedToAnOlderDatabaseAndFindsTheBranch) {
  db_->exec("ALTER TABLE promises DROP COLUMN branch");  // as the schema first released had it
  using seer::promises::testing::create;
  State state;
  for (const auto* id : {"o", "o:a", "o:b", "o:c"}) {
    const json tags = std::string(id) == "o:c" ? json::object() : json{{"resonate:branch", "o"}};
    seer::promises::apply(state, create(id, 9'000'000'000'000, tags), 1000);
  }
  ASSERT_TRUE(
      db_->transact(concrete::write_origin("o", load(*db_, "o"), state, 1000), Access::kWrite)
          .committed);
  for (int start = 0; start < 2; ++start) {
    db_->exec(concrete::postgres_column_upgrades() + concrete::schema_upgrades());
  }
  const auto read = db_->transact(
      concrete::read_rows("o", seer::promises::Footprint{{"o:a"}, true, {}}), Access::kRead);
  ASSERT_TRUE(read.committed) << read.error;
  const auto part = concrete::parse_rows(read.results);
  EXPECT_EQ(part.state.creation_order, (std::vector<std::string>{"o", "o:a", "o:b"}));
  EXPECT_EQ(part.state.unloaded_promises, 1);
}

TEST_F(PostgresSql, TheSweepFindsTheOriginsWithSomethingDue) {
  using seer::promises::testing::create;
  State due;
  auto targeted = create("t", 500);
  targeted["data"]["tags"] = {{"resonate:target", "poll://any@workers"}};
  seer::promises::apply(due, targeted, 100);
  ASSERT_TRUE(db_->transact(concrete::write_origin("t", load(*db_, "t"), due, 100), Access::kWrite)
                  .committed);
  State later;
  seer::promises::apply(later, create("u", 500), 100);  // no target: never swept
  ASSERT_TRUE(
      db_->transact(concrete::write_origin("u", load(*db_, "u"), later, 100), Access::kWrite)
          .committed);
  const auto before = db_->transact({concrete::due_origins(499)}, Access::kRead);
  ASSERT_TRUE(before.committed) << before.error;
  EXPECT_TRUE(concrete::parse_due_origins(before.results[0]).empty());
  const auto at = db_->transact({concrete::due_origins(500)}, Access::kRead);
  EXPECT_EQ(concrete::parse_due_origins(at.results[0]), std::vector<std::string>{"t"});
}

// The server's session ends (a restarted database, a failover, an idle timeout): the transaction
// it breaks reports an error, never a commit, and the next one runs on a new session.
TEST_F(PostgresSql, ALostConnectionIsAnErrorThenANewSession) {
  ASSERT_TRUE(db_->transact({{"SELECT 1"}}, Access::kRead).committed);
  admin_->exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name_ +
               "'");
  const auto broken = db_->transact({{"SELECT 1"}}, Access::kWrite);
  EXPECT_FALSE(broken.committed);
  EXPECT_FALSE(broken.error.empty());
  const auto again = db_->transact({{"SELECT count(*) FROM origins"}}, Access::kRead);
  ASSERT_TRUE(again.committed) << again.error;
  EXPECT_EQ(again.results[0][0][0], 0);
}

// A session's settings are the connection's, not the first session's: a reconnection after a lost
// session sets them again (the server's synchronous_commit = on must survive a database restart).
TEST_F(PostgresSql, EveryNewSessionRunsTheSessionSetup) {
  Connection db(url_, "SET synchronous_commit = local");
  auto setting = [&db] {
    const auto r = db.transact({{"SHOW synchronous_commit"}}, Access::kRead);
    EXPECT_TRUE(r.committed) << r.error;
    return r.committed ? r.results[0][0][0].get<std::string>() : std::string();
  };
  EXPECT_EQ(setting(), "local");
  admin_->exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name_ +
               "'");
  EXPECT_FALSE(db.transact({{"SELECT 1"}}, Access::kWrite).committed);
  EXPECT_EQ(setting(), "local");
}

}  // namespace
