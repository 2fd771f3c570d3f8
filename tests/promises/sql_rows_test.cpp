// The concrete SQL (systems/promises/concrete/sql_rows.*) on SQLite: along random request
// sequences, every state the model reaches is written as row differences and read back equal,
// order of sets and of the task-timeout table included; the guard refuses a stale revision; the
// sweep's query finds exactly the origins with something due.
#include "promises/concrete/sql_rows.hpp"
#include "promises/concrete/column_text.hpp"
#include "promises/model/footprint.hpp"
#include "promises/model/model.hpp"
#include "promises/model/parse.hpp"
#include "promises/model/records.hpp"
#include "random_requests.hpp"
#include "seer/services/sql.hpp"

#include "sweep_scale.hpp"

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
  const int sequences = static_cast<int>(seer::testing::sweep_seeds(60));
  for (int sequence = 0; sequence < sequences; ++sequence) {
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
  EXPECT_GT(writes, 800 * sequences / 60);
}

// The footprint-limited read (read_rows for the request's footprint): along random sequences in one
// origin, the model steps the partial σ exactly as the whole one (response and messages), and
// writing the partial step's row differences leaves the database holding the whole step's state,
// the order of σ.TT included.
TEST(PromisesSql, APartialReadStepsAsTheWholeOriginAndWritesTheSameRows) {
  std::mt19937_64 seeds(11);
  int partial_writes = 0;
  int partial_reads = 0;
  int smaller = 0;
  int tick_writes = 0;
  const int sequences = static_cast<int>(seer::testing::sweep_seeds(30, 6));
  for (int sequence = 0; sequence < sequences; ++sequence) {
    SqlDatabase db({seer::promises::concrete::sqlite_schema()});
    seer::promises::testing::Generator gen(seeds(), "o:");
    State state;
    std::int64_t now = 1'700'000'000'000;
    for (int i = 0; i < 400; ++i) {
      now += gen.advance();
      // Every fifth step a sweep, whose read is of the rows due (read_due).
      const bool tick = i % 5 == 4 && load(db, "o").revision > 0;
      const json r = tick ? json{{"kind", "debug.tick"},
                                 {"head", {{"corrId", "sweep"}, {"version", "seer"}}},
                                 {"data", {{"time", now}}}}
                          : gen.next(now, state);
      State whole = state;
      const auto full = seer::promises::apply(whole, r, now);
      const auto parsed = seer::promises::parse_request(r);
      const auto* request = std::get_if<seer::promises::Request>(&parsed);
      auto ids = request ? seer::promises::footprint(*request) : std::nullopt;
      if (tick || ids) {
        const auto read = run(db, tick ? seer::promises::concrete::read_due("o", now)
                                       : seer::promises::concrete::read_rows("o", *ids));
        ASSERT_TRUE(read.committed) << read.error;
        const StoredOrigin part = seer::promises::concrete::parse_rows(read.results);
        ++partial_reads;
        if (part.state.unloaded_promises > 0) ++smaller;
        State stepped = part.state;
        const auto step = seer::promises::apply(stepped, r, now);
        ASSERT_EQ(step.response, full.response) << r.dump();
        ASSERT_EQ(step.messages, full.messages) << r.dump();
        ASSERT_EQ(stepped == part.state, whole == state) << r.dump();
        if (!(stepped == part.state)) {
          const auto w = run(db, seer::promises::concrete::write_origin("o", part, stepped, now));
          ASSERT_TRUE(w.committed) << w.error << " after " << r.dump();
          ++partial_writes;
          if (tick) ++tick_writes;
        }
      } else if (!(whole == state)) {
        const auto w =
            run(db, seer::promises::concrete::write_origin("o", load(db, "o"), whole, now));
        ASSERT_TRUE(w.committed) << w.error << " after " << r.dump();
      }
      state = std::move(whole);
      ASSERT_EQ(load(db, "o").state, state) << "after " << r.dump();
    }
  }
  EXPECT_GT(partial_writes, 500 * sequences / 60);
  EXPECT_GT(tick_writes, 50 * sequences / 60);
  EXPECT_GT(smaller, partial_reads / 2);
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

// A footprint-limited read finds its rows by key, with no temporary table: no statement scans a
// table or walks an origin's whole range of an index (only the origin's own row, and the last seq
// and position, which are one step down an `(origin, ...)` index, are found by the origin alone).
TEST(PromisesSql, APartialReadUsesKeysNotTheOriginsRange) {
  SqlDatabase db({seer::promises::concrete::sqlite_schema()});
  auto statements = seer::promises::concrete::read_rows("o", {{"o:a", "o:b"}, true, "o:b"});
  const auto due = seer::promises::concrete::read_due("o", 5);
  statements.insert(statements.end(), due.begin() + 1, due.end());
  // The origin's statement: its row by key, its last seq and position one step down the
  // `(origin, ...)` indices, and no scan.
  for (const auto& row : db.query("EXPLAIN QUERY PLAN " + statements[0].sql)) {
    const std::string detail = row.at(3).get<std::string>();
    EXPECT_FALSE(detail.rfind("SCAN ", 0) == 0 && detail != "SCAN CONSTANT ROW") << detail;
    EXPECT_EQ(detail.find("TEMP B-TREE"), std::string::npos) << detail;
  }
  for (std::size_t i = 1; i < statements.size(); ++i) {
    const auto plan = db.query("EXPLAIN QUERY PLAN " + statements[i].sql);
    for (const auto& row : plan) {
      const std::string detail = row.at(3).get<std::string>();
      // `n`: the footprint's ids, found by key, then each table's rows by key for each of them.
      const bool scan =
          detail.rfind("SCAN ", 0) == 0 && detail != "SCAN CONSTANT ROW" && detail != "SCAN n";
      const bool whole_origin =
          detail.find("(origin=?)") != std::string::npos && detail.rfind("SEARCH origins ", 0) != 0;
      EXPECT_FALSE(scan || whole_origin) << statements[i].sql << "\n" << detail;
      // No temporary b-tree but a sort's: one per UNION or IN (subquery) made a footprint read
      // cost 15 times the rows it found (BENCHMARKS.md, "The footprint reads' cost").
      const bool temp_table = detail.find("USING TEMP B-TREE") != std::string::npos ||
                              detail.find("LIST SUBQUERY") != std::string::npos;
      EXPECT_FALSE(temp_table) << statements[i].sql << "\n" << detail;
    }
  }
  EXPECT_EQ(statements.size(), 3u);
}

// The JSON columns are written without the library (column_text.hpp): their bytes must stay what
// its dump() writes, escapes and UTF-8 included, or stored rows would change.
TEST(PromisesSql, ColumnTextIsTheLibrarysDump) {
  const std::vector<std::string> strings = {"",
                                            "plain",
                                            "cGF5bG9hZA==",
                                            "a\"quote",
                                            "back\\slash",
                                            "line\nbreak",
                                            "tab\t",
                                            std::string("nul\0byte", 8),
                                            "\x01\x1f\x7f",
                                            "caf\xc3\xa9",
                                            "\xe2\x82\xac",
                                            "\xf0\x9f\x98\x80",
                                            "/slash",
                                            "<html>&"};
  for (const auto& a : strings) {
    for (const auto& b : strings) {
      const std::map<std::string, std::string> object{{a, b}, {"z" + b, a}};
      EXPECT_EQ(seer::promises::concrete::object_text(object), json(object).dump());
      EXPECT_EQ(seer::promises::concrete::array_text({a, b}), json({a, b}).dump());
      for (int shape = 0; shape < 4; ++shape) {
        seer::promises::Value v;
        if (shape & 1) v.data = a;
        if (shape & 2) v.headers = object;
        EXPECT_EQ(seer::promises::concrete::value_text(v), seer::promises::value_json(v).dump());
      }
    }
  }
  EXPECT_EQ(seer::promises::concrete::object_text({}), "{}");
  EXPECT_EQ(seer::promises::concrete::array_text({}), "[]");
  // Not UTF-8: the library refuses it, and so does the encoder.
  EXPECT_THROW(seer::promises::concrete::array_text({"\xff"}), json::exception);
}

TEST(PromisesSql, CorruptRowsAreAnError) {
  json results = json::array(
      {json::array(),
       json::array({json::array({"a", 1, "pending", "{not json", "{}", "{}", 1, 1, nullptr})}),
       json::array(), json::array(), json::array(), json::array()});
  EXPECT_THROW(seer::promises::concrete::parse_origin(results), std::invalid_argument);
  EXPECT_THROW(seer::promises::concrete::parse_origin(json::array()), std::invalid_argument);
  // A footprint read: the origin's row, then (table, nine value columns) per row.
  const json origin = json::array({json::array({1, 0, 1, nullptr})});
  const json promise = json::array({0, "a", 1, "pending", "{}", "{}", "{}", 1, 1, nullptr});
  EXPECT_NO_THROW(
      seer::promises::concrete::parse_rows(json::array({origin, json::array({promise})})));
  json no_table = promise;
  no_table[0] = 5;
  json narrow = promise;
  narrow.erase(9);
  for (const auto& rows : {json::array({no_table}), json::array({narrow}), json::object()}) {
    EXPECT_THROW(seer::promises::concrete::parse_rows(json::array({origin, rows})),
                 std::invalid_argument)
        << rows;
  }
  EXPECT_THROW(seer::promises::concrete::parse_rows(json::array({json::array(), json::array()})),
               std::invalid_argument);
}

}  // namespace
