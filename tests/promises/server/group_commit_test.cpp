// Group commit on SQLite: several transactions in one COMMIT, each with the outcome it would have
// had alone; and the server's queue that forms the groups from concurrent writers.
#include "promises/server/group_commit.hpp"
#include "group_commit_workload.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

namespace seer::promises::server {
namespace {

using workload::cas;
using workload::insert;

using sql::Statement;
using Statements = std::vector<Statement>;

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("seer_group_" + std::to_string(getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
    remove_files();
    auto db = open();
    db->exec("CREATE TABLE t (id TEXT PRIMARY KEY)");
    db->exec("CREATE TABLE r (k INTEGER PRIMARY KEY, revision INTEGER)");
    db->exec("INSERT INTO r VALUES (1, 1)");
  }
  void TearDown() override { remove_files(); }
  void remove_files() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
  }
  std::unique_ptr<sqlite::Connection> open() {
    auto db = std::make_unique<sqlite::Connection>(path_);
    db->query({"PRAGMA journal_mode=WAL"});
    db->exec("PRAGMA busy_timeout=5000");
    return db;
  }
  std::int64_t count(sqlite::Connection& db, const std::string& table) {
    return db.query({"SELECT count(*) FROM " + table})[0][0].get<std::int64_t>();
  }

  std::string path_;
};

TEST_F(GroupCommitTest, EachTransactionRollsBackAloneAndTheOthersCommit) {
  auto db = open();
  const Statements a{insert("a")};
  const Statements b{insert("b"), {"UPDATE r SET revision = 9 WHERE revision = 42", {}, 1}};
  const Statements c{insert("a")};  // a duplicate of a's row: UNIQUE fails
  const Statements d{insert("d"), {"SELECT count(*) FROM t"}};
  const auto outs = db->transact_together({&a, &b, &c, &d});
  ASSERT_EQ(outs.size(), 4u);
  EXPECT_TRUE(outs[0].committed) << outs[0].error;
  EXPECT_FALSE(outs[1].committed);
  EXPECT_TRUE(outs[1].guard_failed);
  EXPECT_NE(outs[1].error.find("expected 1 changed rows, got 0"), std::string::npos);
  EXPECT_FALSE(outs[2].committed);
  EXPECT_FALSE(outs[2].guard_failed);
  EXPECT_NE(outs[2].error.find("UNIQUE"), std::string::npos) << outs[2].error;
  ASSERT_TRUE(outs[3].committed) << outs[3].error;
  EXPECT_EQ(outs[3].results[1][0][0], 2);  // it sees a's row, and its own
  EXPECT_EQ(outs[3].rows_changed, 1);
  auto other = open();  // what is durable, seen from elsewhere
  EXPECT_EQ(other->query({"SELECT id FROM t ORDER BY id"}),
            nlohmann::json::parse(R"([["a"],["d"]])"));
  EXPECT_EQ(other->query({"SELECT revision FROM r"})[0][0], 1);
}

TEST_F(GroupCommitTest, TwoWritesOfOneRevisionInOneGroupCommitOnlyTheFirst) {
  auto db = open();
  const Statements first{cas(1), insert("first")};
  const Statements second{cas(1), insert("second")};
  const auto outs = db->transact_together({&first, &second});
  EXPECT_TRUE(outs[0].committed);
  EXPECT_TRUE(outs[1].guard_failed);
  EXPECT_EQ(db->query({"SELECT id FROM t"}), nlohmann::json::parse(R"([["first"]])"));
  EXPECT_EQ(db->query({"SELECT revision FROM r"})[0][0], 2);
}

// A full database (max_page_count) fails a statement; whether SQLite then rolls back that
// statement or the whole transaction, every outcome says what is in the file.
TEST_F(GroupCommitTest, AFullDatabaseLeavesNoOutcomeThatDisagreesWithTheFile) {
  auto db = open();
  const auto pages = db->query({"PRAGMA page_count"})[0][0].get<std::int64_t>();
  db->query({"PRAGMA max_page_count = " + std::to_string(pages + 1)});
  const Statements small{insert("small")};
  const Statements big{
      {"INSERT INTO t WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
       "FROM n WHERE x < 2000) SELECT hex(randomblob(500)) || x FROM n"}};
  const Statements after{insert("after")};
  const auto outs = db->transact_together({&small, &big, &after});
  EXPECT_FALSE(outs[1].committed);
  EXPECT_FALSE(outs[1].error.empty());
  auto other = open();
  for (const auto& [i, id] : {std::pair{0, "small"}, std::pair{2, "after"}}) {
    const bool stored = !other->query({"SELECT 1 FROM t WHERE id = ?1", {id}}).empty();
    EXPECT_EQ(outs[i].committed, stored) << id << ": " << outs[i].error;
  }
  EXPECT_EQ(count(*other, "t"), (outs[0].committed ? 1 : 0) + (outs[2].committed ? 1 : 0));
}

// Writers that arrive while a group commits wait and go together in the next one.
TEST_F(GroupCommitTest, WritesWaitingForACommitGoInOneGroup) {
  GroupCommit group(open());
  auto blocker = open();
  blocker->exec("BEGIN IMMEDIATE");  // the first group's BEGIN IMMEDIATE waits for this
  std::vector<std::thread> writers;
  std::vector<sql::Outcome> outs(6);
  std::vector<Statements> writes(6);
  for (int i = 0; i < 6; ++i) writes[i] = {insert("w" + std::to_string(i))};
  writers.emplace_back([&] { outs[0] = group.write(writes[0]); });
  while (!group.committing()) std::this_thread::yield();  // the first one leads, alone
  for (int i = 1; i < 6; ++i) writers.emplace_back([&, i] { outs[i] = group.write(writes[i]); });
  while (group.writes_waiting() != 5) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  blocker->exec("COMMIT");
  for (auto& t : writers) t.join();
  for (const auto& o : outs) EXPECT_TRUE(o.committed) << o.error;
  EXPECT_EQ(group.groups(), 2u);
  EXPECT_EQ(group.writes(), 6u);
  EXPECT_EQ(count(*blocker, "t"), 6);
}

// Many writers compare-and-set one row through the group: every success moved the revision by
// one, whichever group it was in; a writer whose guard failed changed nothing.
TEST_F(GroupCommitTest, ConcurrentCompareAndSetsLoseNoUpdate) {
  GroupCommit group(open());
  const int succeeded = workload::compare_and_set_from_six_writers(group, [&] { return open(); });
  auto db = open();
  EXPECT_GT(succeeded, 0);
  EXPECT_EQ(db->query({"SELECT revision FROM r"})[0][0], 1 + succeeded);
  EXPECT_EQ(count(*db, "t"), succeeded);
  EXPECT_EQ(group.writes(), 180u);
  EXPECT_LE(group.groups(), group.writes());
}

}  // namespace
}  // namespace seer::promises::server
