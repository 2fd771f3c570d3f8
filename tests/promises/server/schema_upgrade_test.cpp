// A SQLite file written before the `branch` column (the preload's rows) is upgraded when the
// server opens it: the column and its index appear, existing rows are found by their branch
// (within their origin), and opening it again changes nothing.
#include "../random_requests.hpp"
#include "promises/concrete/sql_rows.hpp"
#include "promises/model/model.hpp"
#include "promises/server/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace seer::promises::server {
namespace {

using json = nlohmann::json;

// The schema as first released: no branch column, no index on it.
std::string schema_before_branch() {
  std::string schema = concrete::sqlite_schema();
  const auto column = schema.find("  -- tags[\"resonate:branch\"]");
  const auto after = schema.find("UNIQUE (origin, seq)", column);
  schema.erase(column, after - column - 2);
  const auto index = schema.find("-- A preload's rows");
  schema.erase(index, schema.find(";", index) + 1 - index);
  return schema;
}

TEST(SchemaUpgrade, AFileWithoutTheBranchColumnGetsItWithItsIndex) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("seer-schema-upgrade-" + std::to_string(getpid()) + ".db");
  std::filesystem::remove(path);
  {
    sqlite::Connection old(path.string());
    old.exec(schema_before_branch());
    ASSERT_EQ(old.query({concrete::sqlite_has_branch_column()})[0][0], 0);
    State state;
    for (const auto* id : {"o", "o:a", "o:b", "o:c"}) {
      const json tags = std::string(id) == "o:c" ? json::object() : json{{"resonate:branch", "o"}};
      apply(state, testing::create(id, 9'000'000'000'000, tags), 1000);
    }
    ASSERT_TRUE(old.transact(concrete::write_origin("o", {}, state, 1000)).committed);
    // Another origin whose promise carries the same branch value: never part of o's preload.
    State other;
    apply(other, testing::create("p", 9'000'000'000'000, json{{"resonate:branch", "o"}}), 1000);
    ASSERT_TRUE(old.transact(concrete::write_origin("p", {}, other, 1000)).committed);
  }
  for (int open = 0; open < 2; ++open) {  // the second open finds it upgraded already
    auto db = open_sqlite_database(path.string());
    EXPECT_EQ(db->query({concrete::sqlite_has_branch_column()})[0][0], 1);
    EXPECT_EQ(
        db->query({"SELECT count(*) FROM sqlite_master WHERE name = 'promises_by_branch'"})[0][0],
        1);
    // A task.acquire of o:a reads its branch's promises (o, o:b) besides its own, not o:c, and
    // not p, of another origin.
    const auto read = db->transact(concrete::read_rows("o", Footprint{{"o:a"}, true, {}}));
    ASSERT_TRUE(read.committed) << read.error;
    const auto part = concrete::parse_rows(read.results);
    EXPECT_EQ(part.state.creation_order, (std::vector<std::string>{"o", "o:a", "o:b"}));
    EXPECT_EQ(part.state.unloaded_promises, 1);
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace seer::promises::server
