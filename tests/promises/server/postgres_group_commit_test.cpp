// Group commit on PostgreSQL: several transactions in one COMMIT (postgres::Connection::
// transact_together), each with the outcome it would have had alone; a failed COMMIT or a killed
// session answers none of them success; and the server's queue (GroupCommit) on PostgreSQL.
// Skipped without SEER_POSTGRES_URL; ctest starts a cluster (tests/promises/postgres_cluster.sh).
#include "group_commit_workload.hpp"
#include "promises/concrete/sql_rows.hpp"
#include "promises/server/group_commit.hpp"
#include "promises/server/postgres_store.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <set>
#include <thread>

namespace seer::promises::server {
namespace {

using workload::cas;
using workload::insert;

using postgres::Connection;
using sql::Statement;
using Statements = std::vector<Statement>;
using json = nlohmann::json;

class PostgresGroupCommit : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* cluster = std::getenv("SEER_POSTGRES_URL");
    if (!cluster || !*cluster) GTEST_SKIP() << "no PostgreSQL cluster (SEER_POSTGRES_URL)";
    admin_ = std::make_unique<Connection>(cluster);
    name_ = "seer_group_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (auto& c : name_) {
      c = std::isalnum(static_cast<unsigned char>(c))
              ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
              : '_';  // a parameterised test's name has a '/'
    }
    admin_->exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    admin_->exec("CREATE DATABASE " + name_);
    const std::string url(cluster);
    url_ = url.substr(0, url.rfind('/') + 1) + name_;
    auto db = open();
    db->exec("CREATE TABLE t (id TEXT PRIMARY KEY)");
    db->exec("CREATE TABLE r (k INTEGER PRIMARY KEY, revision BIGINT)");
    db->exec("INSERT INTO r VALUES (1, 1)");
  }
  void TearDown() override {
    if (admin_) admin_->exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }
  std::unique_ptr<Connection> open() {
    return std::make_unique<Connection>(url_, "SET synchronous_commit = on");
  }
  static json ids(Connection& db) { return db.query({"SELECT id FROM t ORDER BY id"}); }

  std::unique_ptr<Connection> admin_;
  std::string name_, url_;
};

TEST_F(PostgresGroupCommit, EachTransactionRollsBackAloneAndTheOthersCommit) {
  auto db = open();
  const Statements a{insert("a")};
  const Statements b{insert("b"), {"UPDATE r SET revision = 9 WHERE revision = 42", {}, 1}};
  const Statements c{insert("a")};  // a duplicate of a's row: the primary key fails
  const Statements d{insert("d"), {"SELECT count(*) FROM t"}};
  const auto outs = db->transact_together({&a, &b, &c, &d});
  ASSERT_EQ(outs.size(), 4u);
  EXPECT_TRUE(outs[0].committed) << outs[0].error;
  EXPECT_FALSE(outs[1].committed);
  EXPECT_TRUE(outs[1].guard_failed);
  EXPECT_NE(outs[1].error.find("expected 1 changed rows"), std::string::npos) << outs[1].error;
  EXPECT_FALSE(outs[2].committed);
  EXPECT_FALSE(outs[2].guard_failed);
  EXPECT_NE(outs[2].error.find("duplicate key"), std::string::npos) << outs[2].error;
  ASSERT_TRUE(outs[3].committed) << outs[3].error;
  ASSERT_EQ(outs[3].results.size(), 2u);
  EXPECT_EQ(outs[3].results[1][0][0], 2);  // it sees a's row, and its own; not b's, undone
  auto other = open();                     // what is durable, seen from elsewhere
  EXPECT_EQ(ids(*other), json::parse(R"([["a"],["d"]])"));
  EXPECT_EQ(other->query({"SELECT revision FROM r"})[0][0], 1);
  // The session is usable after the savepoints' rollbacks (no transaction left open).
  const auto next = db->transact({insert("e")}, postgres::Access::kWrite);
  EXPECT_TRUE(next.committed) << next.error;
}

// Failures at the start, twice in a row and at the end: each undone alone, the rest committed
// (the plain transaction fails at the first, and the group runs again with savepoints).
TEST_F(PostgresGroupCommit, FailuresAnywhereInTheGroupUndoOnlyThemselves) {
  auto db = open();
  std::vector<Statements> writes{{cas(7)},      {insert("p")}, {cas(8)}, {cas(9)},
                                 {insert("q")}, {cas(1)},      {cas(1)}, {insert("r"), cas(5)}};
  GroupCommit::Transactions group;
  for (const auto& w : writes) group.push_back(&w);
  const auto outs = db->transact_together(group);
  const std::vector<bool> committed{false, true, false, false, true, true, false, false};
  for (std::size_t i = 0; i < outs.size(); ++i) {
    EXPECT_EQ(outs[i].committed, committed[i]) << i << ": " << outs[i].error;
    EXPECT_EQ(outs[i].guard_failed, !committed[i]) << i << ": " << outs[i].error;
  }
  auto other = open();
  EXPECT_EQ(ids(*other), json::parse(R"([["p"],["q"]])"));  // r's insert went with its guard
  EXPECT_EQ(other->query({"SELECT revision FROM r"})[0][0], 2);
}

// A COMMIT that fails (here a deferred constraint) fails every transaction of the group, the
// ones whose statements all ran included, and none of them is stored.
TEST_F(PostgresGroupCommit, AFailedCommitAnswersNobodySuccess) {
  auto db = open();
  db->exec("CREATE TABLE u (v TEXT UNIQUE DEFERRABLE INITIALLY DEFERRED)");
  const Statements a{insert("a")};
  const Statements b{{"INSERT INTO u VALUES ('same')"}};
  const Statements c{{"INSERT INTO u VALUES ('same')"}, insert("c")};
  const auto outs = db->transact_together({&a, &b, &c});
  for (const auto& o : outs) {
    EXPECT_FALSE(o.committed);
    EXPECT_FALSE(o.guard_failed);
    EXPECT_NE(o.error.find("duplicate key"), std::string::npos) << o.error;
  }
  auto other = open();
  EXPECT_EQ(ids(*other), json::array());
  EXPECT_EQ(other->query({"SELECT count(*) FROM u"})[0][0], 0);
  EXPECT_TRUE(db->transact({insert("after")}, postgres::Access::kWrite).committed);
}

// The writer's session killed while its group waits (for a row lock another session holds, so
// before its COMMIT): every member fails, nothing is stored, and the next group runs on a new
// session.
TEST_F(PostgresGroupCommit, ASessionKilledBeforeCommitAnswersNobodySuccess) {
  auto db = open();
  const auto writer_pid = db->query({"SELECT pg_backend_pid()"})[0][0].get<std::int64_t>();
  auto blocker = open();
  blocker->exec("BEGIN");
  blocker->exec("UPDATE r SET revision = revision WHERE k = 1");
  const Statements a{insert("a")};
  const Statements b{insert("b"), cas(1)};  // waits for the blocker's lock
  const Statements c{insert("c")};
  std::vector<sql::Outcome> outs;
  std::thread group([&] { outs = db->transact_together({&a, &b, &c}); });
  auto waiting = [&] {
    return admin_
        ->query({"SELECT count(*) FROM pg_stat_activity WHERE pid = ?1 AND wait_event_type = "
                 "'Lock'",
                 {writer_pid}})[0][0]
        .get<std::int64_t>();
  };
  for (int i = 0; i < 500 && waiting() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(waiting(), 1);
  admin_->query({"SELECT pg_terminate_backend(?1::int)", {writer_pid}});
  group.join();
  blocker->exec("ROLLBACK");
  ASSERT_EQ(outs.size(), 3u);
  for (const auto& o : outs) {
    EXPECT_FALSE(o.committed);
    EXPECT_FALSE(o.guard_failed);
    EXPECT_FALSE(o.error.empty());
  }
  auto other = open();
  EXPECT_EQ(ids(*other), json::array());
  const Statements d{insert("d")};
  const auto again = db->transact_together({&d});
  EXPECT_TRUE(again[0].committed) << again[0].error;
  EXPECT_EQ(ids(*other), json::parse(R"([["d"]])"));
}

// Writers that arrive while a group commits wait and go together in the next one, each answered
// with its own result.
TEST_F(PostgresGroupCommit, WritesWaitingForACommitGoInOneGroup) {
  GroupCommit group(open());
  auto blocker = open();
  blocker->exec("BEGIN");
  blocker->exec("UPDATE r SET revision = revision WHERE k = 1");  // the first group waits for it
  std::vector<sql::Outcome> outs(6);
  std::vector<Statements> writes{{cas(1), insert("w0")}, {insert("w1")}, {cas(1), insert("w2")},
                                 {insert("w3")},         {insert("w1")}, {insert("w5")}};
  std::vector<std::thread> writers;
  writers.emplace_back([&] { outs[0] = group.write(writes[0]); });
  while (!group.committing()) std::this_thread::yield();  // the first one leads, alone
  for (int i = 1; i < 6; ++i) writers.emplace_back([&, i] { outs[i] = group.write(writes[i]); });
  while (group.writes_waiting() != 5) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  blocker->exec("ROLLBACK");
  for (auto& t : writers) t.join();
  EXPECT_EQ(group.groups(), 2u);
  EXPECT_EQ(group.writes(), 6u);
  EXPECT_TRUE(outs[0].committed) << outs[0].error;
  EXPECT_TRUE(outs[2].guard_failed) << outs[2].error;  // w0 moved the revision first
  EXPECT_TRUE(outs[3].committed) << outs[3].error;
  EXPECT_TRUE(outs[5].committed) << outs[5].error;
  // w1 twice: whichever of the two ran first in the group is stored, the other failed.
  EXPECT_NE(outs[1].committed, outs[4].committed);
  EXPECT_EQ(ids(*open()), json::parse(R"([["w0"],["w1"],["w3"],["w5"]])"));
}

// A group runs its writes in their lock order (the server's: the origin each writes), not in the
// order they arrived: two groups committing at once then take their row locks in one order and
// cannot deadlock. Here writes "c", "a", "b" arrive in that order while a first group waits.
TEST_F(PostgresGroupCommit, AGroupRunsItsWritesInLockOrder) {
  open()->exec("CREATE TABLE o (name TEXT, n BIGSERIAL)");
  GroupCommit group(open());
  auto blocker = open();
  blocker->exec("BEGIN");
  blocker->exec("UPDATE r SET revision = revision WHERE k = 1");
  const auto append = [](const std::string& name) {
    return Statements{{"INSERT INTO o (name) VALUES (?1)", {name}}};
  };
  const std::vector<std::string> arrivals{"c", "a", "b"};
  std::vector<Statements> writes;
  for (const auto& name : arrivals) writes.push_back(append(name));
  Statements first{cas(1)};
  std::vector<sql::Outcome> outs(arrivals.size() + 1);
  std::vector<std::thread> writers;
  writers.emplace_back([&] { outs[0] = group.write(first, "z"); });
  while (!group.committing()) std::this_thread::yield();
  for (std::size_t i = 0; i < arrivals.size(); ++i) {
    writers.emplace_back([&, i] { outs[i + 1] = group.write(writes[i], arrivals[i]); });
    while (group.writes_waiting() != i + 1) std::this_thread::yield();  // arrived, in this order
  }
  blocker->exec("ROLLBACK");
  for (auto& t : writers) t.join();
  for (const auto& out : outs) EXPECT_TRUE(out.committed) << out.error;
  EXPECT_EQ(group.groups(), 2u);
  EXPECT_EQ(open()->query({"SELECT name FROM o ORDER BY n"}),
            json::parse(R"([["a"],["b"],["c"]])"));
}

// A loop's session reads without BEGIN and COMMIT (read_implicitly): its statements are still
// one REPEATABLE READ transaction, with one snapshot, also on the session after a reconnection;
// and a write on it is still READ COMMITTED.
TEST_F(PostgresGroupCommit, AnImplicitReadIsOneRepeatableReadTransaction) {
  auto db = open();
  db->read_implicitly();
  const std::vector<Statement> read{{"SELECT current_setting('transaction_isolation')"},
                                    {"SELECT pg_current_snapshot()::text, now()"},
                                    {"SELECT pg_sleep(0.05)"},
                                    {"SELECT pg_current_snapshot()::text, now()"}};
  auto check = [&] {
    const auto r = db->transact(read, postgres::Access::kRead);
    ASSERT_TRUE(r.committed) << r.error;
    ASSERT_EQ(r.results.size(), 4u);
    EXPECT_EQ(r.results[0][0][0], "repeatable read");
    EXPECT_EQ(r.results[1], r.results[3]);  // one snapshot, one transaction's start
  };
  check();
  // A row committed elsewhere between two reads is seen by the second.
  open()->transact({insert("x")}, postgres::Access::kWrite);
  const auto seen = db->transact({{"SELECT count(*) FROM t"}}, postgres::Access::kRead);
  EXPECT_EQ(seen.results[0][0][0], 1);
  const auto pid = db->query({"SELECT pg_backend_pid()"})[0][0].get<std::int64_t>();
  admin_->query({"SELECT pg_terminate_backend(?1::int)", {pid}});
  EXPECT_FALSE(db->transact(read, postgres::Access::kRead).committed);  // the session is gone
  check();                                                              // a new one, the same
  const auto w =
      db->transact({{"SELECT current_setting('transaction_isolation')"}}, postgres::Access::kWrite);
  EXPECT_EQ(w.results[0][0][0], "read committed");
}

// With two writer connections a group forms while another waits: here the first for a row lock,
// which the second group's write does not need.
TEST_F(PostgresGroupCommit, WithTwoWritersAGroupDoesNotWaitForAnother) {
  std::vector<std::unique_ptr<Connection>> writers;
  writers.push_back(open());
  writers.push_back(open());
  GroupCommit group(std::move(writers));
  auto blocker = open();
  blocker->exec("BEGIN");
  blocker->exec("UPDATE r SET revision = revision WHERE k = 1");
  sql::Outcome first;
  std::thread waiting([&] { first = group.write({cas(1), insert("first")}); });
  while (!group.committing()) std::this_thread::yield();
  const auto second = group.write({insert("second")});  // commits while the first waits
  EXPECT_TRUE(second.committed) << second.error;
  EXPECT_EQ(group.groups(), 1u);
  EXPECT_EQ(ids(*open()), json::parse(R"([["second"]])"));
  blocker->exec("ROLLBACK");
  waiting.join();
  EXPECT_TRUE(first.committed) << first.error;
  EXPECT_EQ(group.groups(), 2u);
}

// The server's sessions: commits flushed before they return, and plain index scans and nested
// loops for its key lookups (postgres_store.cpp), also on a session opened again after it was lost.
TEST_F(PostgresGroupCommit, TheServersSessionsFlushCommitsAndScanIndicesPlainly) {
  auto db = open_postgres_database(url_);
  for (int life = 0; life < 2; ++life) {
    const auto r = db->transact({{"SHOW synchronous_commit"},
                                 {"SHOW enable_bitmapscan"},
                                 {"SHOW enable_hashjoin"},
                                 {"SHOW enable_mergejoin"},
                                 {"SHOW enable_seqscan"}},
                                postgres::Access::kRead);
    ASSERT_TRUE(r.committed) << r.error;
    EXPECT_EQ(r.results.at(0).at(0).at(0), "on");
    for (std::size_t i = 1; i < 5; ++i) EXPECT_EQ(r.results.at(i).at(0).at(0), "off") << i;
    // Lose the session; the next statement reconnects with the same settings.
    admin_->exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" +
                 name_ + "' AND pid <> pg_backend_pid()");
    db->transact({{"SELECT 1"}}, postgres::Access::kRead);  // fails: the session is gone
  }
}

// The plan PostgreSQL keeps for a prepared statement (its generic plan, from the sixth run on) is
// made once, often while the tables are still empty, where a sequential scan or a hash join costs
// nothing; as the tables grow it reads all of one per request, until autovacuum's ANALYZE makes
// PostgreSQL plan again. The server's footprint read,
// planned on an empty database, must still find its rows by key (without the session settings:
// a hash join over a sequential scan of promises, and 2.1-4.4 k ops/s instead of 4.7-4.9 k).
TEST_F(PostgresGroupCommit, AnEmptyDatabasesPlanForTheFootprintReadFindsRowsByKey) {
  auto db = open_postgres_database(url_);  // creates the schema: every table is empty
  db->exec("SET plan_cache_mode = force_generic_plan");
  for (const bool preload : {false, true}) {
    const auto read = concrete::read_rows("o", {{"o:a"}, preload, std::nullopt});
    const std::string name = preload ? "seer_preload" : "seer_footprint";
    db->exec("PREPARE " + name + " AS " + postgres::dollar_parameters(read.at(1).sql));
    const std::string plan =
        db->query({"EXPLAIN EXECUTE " + name + (preload ? "('o:a', 'o')" : "('o:a')")}).dump();
    EXPECT_EQ(plan.find("Seq Scan"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("Hash"), std::string::npos) << plan;
    EXPECT_NE(plan.find("Index Scan using promises_pkey"), std::string::npos) << plan;
  }
}

// An idle server commits on its first session, whatever thread the last write came from: a lost
// session then fails one write, not one per writer (store_faults_test.sh lost-session).
TEST_F(PostgresGroupCommit, OneWriteAtATimeCommitsOnTheFirstSession) {
  std::vector<std::unique_ptr<Connection>> writers;
  writers.push_back(open());
  writers.push_back(open());
  writers.push_back(open());
  GroupCommit group(std::move(writers));
  std::set<std::int64_t> sessions;
  for (int i = 0; i < 20; ++i) {
    const auto out = group.write({{"SELECT pg_backend_pid()", json::array()}});
    ASSERT_TRUE(out.committed) << out.error;
    sessions.insert(out.results.at(0).at(0).at(0).get<std::int64_t>());
  }
  EXPECT_EQ(sessions.size(), 1u);
  EXPECT_EQ(group.groups(), 20u);
}

// Many writers compare-and-set one row through the group (one writer connection, or three):
// every success moved the revision by one, whichever group it was in; a writer whose guard failed
// changed nothing.
class PostgresGroupCommitWriters : public PostgresGroupCommit,
                                   public ::testing::WithParamInterface<int> {};

TEST_P(PostgresGroupCommitWriters, ConcurrentCompareAndSetsLoseNoUpdate) {
  std::vector<std::unique_ptr<Connection>> connections;
  for (int i = 0; i < GetParam(); ++i) connections.push_back(open());
  GroupCommit group(std::move(connections));
  const int succeeded = workload::compare_and_set_from_six_writers(group, [&] { return open(); });
  auto db = open();
  EXPECT_EQ(db->query({"SELECT revision FROM r"})[0][0], 1 + succeeded);
  EXPECT_EQ(db->query({"SELECT count(*) FROM t"})[0][0], succeeded);
  EXPECT_GT(succeeded, 0);
  EXPECT_EQ(group.writes(), 180u);
}

INSTANTIATE_TEST_SUITE_P(OneOrThree, PostgresGroupCommitWriters, ::testing::Values(1, 3));

}  // namespace
}  // namespace seer::promises::server
