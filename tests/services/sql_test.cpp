// The simulated SQL database: transactions commit or roll back whole, crashes drop what had not
// committed, lost responses are marked; the bank design's variants fail or hold as documented.
#include "seer/services/sql.hpp"
#include "seer/sim/system.hpp"
#include "seer/systems/builtin.hpp"
#include "sweep_scale.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace seer::services {
namespace {

SqlDatabase accounts() {
  return SqlDatabase({"CREATE TABLE a (id INTEGER PRIMARY KEY, n INTEGER)",
                      "INSERT INTO a VALUES (1, 10)", "CREATE TABLE t (id TEXT PRIMARY KEY)"});
}

TEST(SqlDatabase, TransactionsCommitOrRollBackWhole) {
  auto db = accounts();
  auto ok = db.execute({{"UPDATE a SET n = n - 4 WHERE id = 1 AND n >= 4", {}, 1},
                        {"SELECT n FROM a", {}, std::nullopt}},
                       "first");
  ASSERT_TRUE(ok.committed) << ok.error;
  EXPECT_EQ(ok.results[1][0][0], 6);
  // The guard fails: the first statement's effect is rolled back too.
  auto guarded = db.execute({{"INSERT INTO t VALUES (?1)", {"x"}, std::nullopt},
                             {"UPDATE a SET n = n - ?1 WHERE id = 1 AND n >= ?1", {50}, 1}},
                            "second");
  EXPECT_FALSE(guarded.committed);
  EXPECT_NE(guarded.error.find("expected 1 changed rows"), std::string::npos) << guarded.error;
  EXPECT_TRUE(db.query("SELECT * FROM t").empty());
  EXPECT_EQ(db.query("SELECT n FROM a")[0][0], 6);
  // Errors name SQLite's reason; the uniqueness one is how idempotency keys work.
  ASSERT_TRUE(db.execute({{"INSERT INTO t VALUES ('k')", {}, std::nullopt}}, "k").committed);
  auto again = db.execute({{"INSERT INTO t VALUES ('k')", {}, std::nullopt}}, "k");
  EXPECT_FALSE(again.committed);
  EXPECT_NE(again.error.find("UNIQUE"), std::string::npos) << again.error;
  EXPECT_EQ(db.committed(), (std::vector<std::string>{"first", "k"}));
  EXPECT_FALSE(db.execute({{"SELEC nonsense", {}, std::nullopt}}, "bad").committed);
  EXPECT_THROW(db.query("SELEC nonsense"), std::runtime_error);
}

// Per statement: the rows it changed; on a rollback, which statement failed.
// A database's connection is reused by the thread's next database of the same schema (with its
// prepared statements): that one must answer as a new database would.
TEST(SqlDatabase, AReusedConnectionIsANewDatabase) {
  const std::vector<std::string> schema = {
      "CREATE TABLE log (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT)",
      "CREATE TABLE plain (v TEXT)"};
  const std::vector<SqlStatement> writes = {
      {"INSERT INTO log (v) VALUES ('a'), ('b')", {}, std::nullopt},
      {"INSERT INTO plain VALUES ('x')", {}, std::nullopt},
      {"SELECT last_insert_rowid(), (SELECT max(id) FROM log), (SELECT rowid FROM plain)",
       {},
       std::nullopt}};
  nlohmann::json first;
  for (int run = 0; run < 3; ++run) {
    SqlDatabase db(schema);
    EXPECT_TRUE(db.query("SELECT * FROM log").empty()) << "run " << run;
    EXPECT_TRUE(db.query("SELECT * FROM plain").empty()) << "run " << run;
    EXPECT_EQ(db.query("SELECT last_insert_rowid()")[0][0], 0) << "run " << run;
    const auto out = db.execute(writes, "w");
    ASSERT_TRUE(out.committed) << out.error;
    if (run == 0) first = out.results;
    EXPECT_EQ(out.results, first) << "run " << run;  // AUTOINCREMENT and rowids start again
    EXPECT_EQ(out.results[2][0], nlohmann::json::array({1, 2, 1}));
  }
  // A schema's own rows are there in every database of it (accounts() inserts one).
  for (int run = 0; run < 2; ++run) {
    auto db = accounts();
    ASSERT_TRUE(db.execute({{"DELETE FROM a", {}, std::nullopt}}, "d").committed);
  }
  EXPECT_EQ(accounts().query("SELECT n FROM a"), nlohmann::json::parse("[[10]]"));
  // A run that changed the schema leaves no trace either: its connection is not reused.
  {
    SqlDatabase db(schema);
    ASSERT_TRUE(db.execute({{"CREATE TABLE extra (v)", {}, std::nullopt}}, "ddl").committed);
  }
  std::vector<std::unique_ptr<SqlDatabase>> open;  // at once: every kept connection is taken
  for (int run = 0; run < 5; ++run) {
    open.push_back(std::make_unique<SqlDatabase>(schema));
    EXPECT_TRUE(open.back()->query("SELECT name FROM sqlite_schema WHERE name = 'extra'").empty());
  }
}

TEST(SqlDatabase, OutcomesSayWhatEachStatementChangedAndWhichFailed) {
  auto db = accounts();
  auto ok = db.execute({{"UPDATE a SET n = n + 1 WHERE id = 1", {}, std::nullopt},
                        {"UPDATE a SET n = n + 1 WHERE id = 99", {}, std::nullopt},
                        {"SELECT n FROM a", {}, std::nullopt}},
                       "changes");
  ASSERT_TRUE(ok.committed);
  EXPECT_EQ(ok.changes, (std::vector<std::int64_t>{1, 0, 0}));
  EXPECT_FALSE(ok.failed_statement.has_value());
  auto failed = db.execute({{"INSERT INTO t VALUES ('a')", {}, std::nullopt},
                            {"UPDATE a SET n = 0 WHERE id = 99", {}, 1}},
                           "guarded");
  ASSERT_FALSE(failed.committed);
  EXPECT_EQ(failed.failed_statement, std::optional<std::size_t>(1));
}

// The oracle's row-level tracking: the tables each statement read, the rows it wrote (with their
// values), and the earlier reads whose rows a commit changed; a write to other rows of the same
// table does not overtake a read.
TEST(SqlDatabase, TracksRowsAndTheReadsACommitOvertook) {
  SqlDatabase db({"CREATE TABLE orders (id TEXT PRIMARY KEY, amount INTEGER)",
                  "INSERT INTO orders VALUES ('o1', 5)", "INSERT INTO orders VALUES ('o2', 7)",
                  "CREATE TABLE refs (obj TEXT PRIMARY KEY)"});
  db.track(true);
  const auto read =
      db.execute({{"SELECT amount FROM orders WHERE id = ?1", {"o1"}, std::nullopt}}, "read-o1", 1);
  ASSERT_TRUE(read.committed);
  ASSERT_TRUE(read.accesses.is_array());
  EXPECT_EQ(read.accesses[0]["reads"], nlohmann::json::array({"orders"}));
  EXPECT_TRUE(read.accesses[0]["writes"].empty());
  // Other rows of the same table: the read's rows did not change.
  const auto other = db.execute({{"UPDATE orders SET amount = 8 WHERE id = 'o2'", {}, std::nullopt},
                                 {"INSERT INTO refs VALUES ('obj-3')", {}, std::nullopt}},
                                "other", 2);
  ASSERT_TRUE(other.committed);
  EXPECT_TRUE(db.overtaken().empty());
  const auto& w = other.accesses[0]["writes"][0];
  EXPECT_EQ(w["table"], "orders");
  EXPECT_EQ(w["op"], "update");
  EXPECT_EQ(w["row"], nlohmann::json::array({"o2", 8}));
  EXPECT_EQ(other.accesses[1]["writes"][0]["row"], nlohmann::json::array({"obj-3"}));
  // The read's own row: it is overtaken, with what it returned before and after.
  const auto same =
      db.execute({{"UPDATE orders SET amount = 6 WHERE id = 'o1'", {}, std::nullopt}}, "same", 3);
  ASSERT_EQ(db.overtaken().size(), 1u);
  EXPECT_EQ(db.overtaken()[0]["serial"], 1);
  EXPECT_EQ(db.overtaken()[0]["label"], "read-o1");
  EXPECT_EQ(db.overtaken()[0]["before"], nlohmann::json::parse("[[5]]"));
  EXPECT_EQ(db.overtaken()[0]["after"], nlohmann::json::parse("[[6]]"));
  const auto deleted =
      db.execute({{"DELETE FROM refs WHERE obj = 'obj-3'", {}, std::nullopt}}, "delete", 4);
  EXPECT_EQ(deleted.accesses[0]["writes"][0]["op"], "delete");
  EXPECT_EQ(deleted.accesses[0]["writes"][0]["row"], nlohmann::json::array({"obj-3"}));
  // Off by default: nothing recorded.
  db.track(false);
  EXPECT_TRUE(db.execute({{"SELECT 1", {}, std::nullopt}}, "untracked").accesses.is_null());
}

}  // namespace
}  // namespace seer::services

namespace seer::sim {
namespace {

RunResult bank(const std::string& variant, std::uint64_t seed, bool trace = false,
               std::optional<std::vector<FaultKind>> faults = std::nullopt) {
  register_builtin_systems();
  RunConfig c;
  c.seed = seed;
  c.record_trace = trace;
  c.faults = std::move(faults);
  return run_system(*SystemRegistry::instance().find("bank"), variant, c);
}

// Seed 3 of `seer sweep bank --variant check-then-act`: two transfers both saw enough money.
TEST(Bank, CheckThenActSeed3Overdraws) {
  const auto r = bank("check-then-act", 3);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.violation->invariant, "no-overdraft");
}

// Seed 1 of `seer sweep bank --variant guarded-retry`: a transfer committed, its response was
// lost, and the retry committed it again.
TEST(Bank, GuardedRetrySeed1CommitsATransferTwice) {
  const auto r = bank("guarded-retry", 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.violation->invariant, "transfer-once");
}

TEST(Bank, IdempotentTransfersHold) {
  for (std::uint64_t seed = 1; seed <= seer::testing::sweep_seeds(500); ++seed) {
    const auto r = bank("idempotent", seed);
    ASSERT_TRUE(r.ok()) << "seed " << seed << ": " << r.violation->message;
  }
}

// The database's boundary history (inserts and whole-table reads) is a linearizable set under swarm
// faults, crashes of the server included.
TEST(SqlService, BoundaryHistoryIsLinearizable) {
  register_builtin_systems();
  const auto& contract = *SystemRegistry::instance().find("sql-contract");
  int unknown = 0;
  for (std::uint64_t seed = 1; seed <= seer::testing::sweep_seeds(1000); ++seed) {
    RunConfig c;
    c.seed = seed;
    const auto r = run_system(contract, "default", c);
    ASSERT_TRUE(r.ok()) << "seed " << seed << ": " << r.violation->message;
    for (const auto& h : r.history) unknown += h.type == OpType::kInfo ? 1 : 0;
  }
  EXPECT_GT(unknown, 50) << "the sweep should include outcome-unknown transactions";
}

TEST(SqlService, CrashesDropUncommittedTransactionsAndLostResponsesAreMarked) {
  int dropped = 0;
  int lost_commits = 0;
  const auto seeds = seer::testing::sweep_seeds(60);
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    const auto r = bank("idempotent", seed, true,
                        std::vector<FaultKind>{FaultKind::kCrash, FaultKind::kLostResponse});
    ASSERT_TRUE(r.ok()) << "seed " << seed;
    for (const auto& line : r.trace_lines) {
      const auto e = nlohmann::json::parse(line);
      if (e["kind"] != "annotation") continue;
      if (e["what"] == "crash_dropped_transaction") ++dropped;
      if (e["what"] == "lost_response" && e["oracle"]["committed"].get<bool>()) ++lost_commits;
    }
  }
  EXPECT_GT(dropped, 0);
  EXPECT_GT(lost_commits, static_cast<int>(seeds / 6));
}

}  // namespace
}  // namespace seer::sim
