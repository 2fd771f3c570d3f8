// The concrete SQL (systems/promises/concrete/sql_rows.*) on SQLite: along random request
// sequences, every state the model reaches is written as row differences and read back equal,
// order of sets and of the task-timeout table included; the guard refuses a stale revision; the
// sweep's query finds exactly the origins with something due.
#include "promises/concrete/sql_rows.hpp"
#include "promises/model/model.hpp"
#include "random_requests.hpp"
#include "seer/services/sql.hpp"

#include <gtest/gtest.h>

#include <random>

namespace {

using json = nlohmann::json;
using seer::promises::State;
using seer::promises::concrete::SqlStep;
using seer::promises::concrete::StoredOrigin;
using seer::services::SqlDatabase;

SqlDatabase::Outcome run(SqlDatabase& db, const std::vector<SqlStep>& steps) {
  return db.execute(steps, "test");
}

StoredOrigin load(SqlDatabase& db, const std::string& origin) {
  const auto read = run(db, seer::promises::concrete::read_origin(origin));
  EXPECT_TRUE(read.committed) << read.error;
  return seer::promises::concrete::parse_origin(read.results);
}

TEST(PromisesSql, EveryReachedStateIsStoredAndReadBackEqual) {
  std::mt19937_64 seeds(7);
  int writes = 0;
  for (int sequence = 0; sequence < 60; ++sequence) {
    SqlDatabase db({seer::promises::concrete::sqlite_schema()});
    seer::promises::testing::Generator gen(seeds());
    State state;
    StoredOrigin stored = load(db, "o");
    std::int64_t now = 1'700'000'000'000;
    for (int i = 0; i < 400; ++i) {
      now += gen.advance();
      const json r = gen.next(now, state);
      seer::promises::apply(state, r, now);
      if (state == stored.state) continue;
      const auto outcome = run(db, seer::promises::concrete::write_origin("o", stored, state, now));
      ASSERT_TRUE(outcome.committed) << outcome.error << " after " << r.dump();
      ++writes;
      const StoredOrigin back = load(db, "o");
      ASSERT_EQ(back.state, state) << "after " << r.dump();
      EXPECT_EQ(back.revision, stored.revision + 1);
      EXPECT_EQ(back.clock, now);
      stored = back;
    }
  }
  EXPECT_GT(writes, 800);
}

TEST(PromisesSql, TheGuardRefusesAStaleRevisionAndWritesNothing) {
  SqlDatabase db({seer::promises::concrete::sqlite_schema()});
  using seer::promises::testing::create;
  State first;
  seer::promises::apply(first, create("a", 5000), 100);
  const StoredOrigin empty = load(db, "o");
  ASSERT_TRUE(run(db, seer::promises::concrete::write_origin("o", empty, first, 100)).committed);
  // A second writer that read the empty origin too: its create of the origin row must fail.
  State other;
  seer::promises::apply(other, create("b", 5000), 101);
  const auto lost = run(db, seer::promises::concrete::write_origin("o", empty, other, 101));
  EXPECT_FALSE(lost.committed);
  // And one that read revision 1 after another wrote revision 2.
  const StoredOrigin at1 = load(db, "o");
  State second = at1.state;
  seer::promises::apply(second, create("c", 5000), 102);
  ASSERT_TRUE(run(db, seer::promises::concrete::write_origin("o", at1, second, 102)).committed);
  State third = at1.state;
  seer::promises::apply(third, create("d", 5000), 103);
  EXPECT_FALSE(run(db, seer::promises::concrete::write_origin("o", at1, third, 103)).committed);
  const StoredOrigin now = load(db, "o");
  EXPECT_EQ(now.state, second);
  EXPECT_EQ(now.revision, 2);
}

TEST(PromisesSql, TheSweepFindsTheOriginsWithSomethingDue) {
  SqlDatabase db({seer::promises::concrete::sqlite_schema()});
  using seer::promises::testing::create;
  using seer::promises::testing::tags_of;
  auto write = [&](const std::string& origin, const json& request, std::int64_t now) {
    const StoredOrigin before = load(db, origin);
    State after = before.state;
    seer::promises::apply(after, request, now);
    ASSERT_TRUE(
        run(db, seer::promises::concrete::write_origin(origin, before, after, now)).committed);
  };
  write("x", create("x", 1000, tags_of({{"resonate:target", "T"}})), 10);  // due at 1000
  write("y", create("y", 500), 10);  // untargeted: never swept (spec §3.2)
  write("z", create("z", 90000, tags_of({{"resonate:target", "T"}})), 10);  // retry at 30010
  auto due = [&](std::int64_t at) {
    const auto out = run(db, {seer::promises::concrete::due_origins(at)});
    EXPECT_TRUE(out.committed) << out.error;
    return seer::promises::concrete::parse_due_origins(out.results[0]);
  };
  EXPECT_EQ(due(999), std::vector<std::string>{});
  EXPECT_EQ(due(1000), std::vector<std::string>{"x"});
  EXPECT_EQ(due(30010), (std::vector<std::string>{"x", "z"}));
  // Both halves of the query use their index, not a scan.
  const auto plan = db.query("EXPLAIN QUERY PLAN " + seer::promises::concrete::due_origins(0).sql);
  const std::string text = plan.dump();
  EXPECT_NE(text.find("promises_due"), std::string::npos) << text;
  EXPECT_NE(text.find("task_timeouts_due"), std::string::npos) << text;
}

TEST(PromisesSql, CorruptRowsAreAnError) {
  json results = json::array(
      {json::array(),
       json::array({json::array({"a", 1, "pending", "{not json", "{}", "{}", 1, 1, nullptr})}),
       json::array(), json::array(), json::array(), json::array()});
  EXPECT_THROW(seer::promises::concrete::parse_origin(results), std::invalid_argument);
  EXPECT_THROW(seer::promises::concrete::parse_origin(json::array()), std::invalid_argument);
}

}  // namespace
