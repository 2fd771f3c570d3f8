// The server's SQLite file settings (concrete/sql_rows.hpp): a new file gets small pages and a
// checkpoint every 16 MiB of WAL; a file written before keeps its page size and gets a checkpoint
// of the same size in its own pages, with every row readable.
#include "promises/concrete/sql_rows.hpp"
#include "promises/server/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace seer::promises::server {
namespace {

class SqliteSettings : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("seer-sqlite-settings-" + std::to_string(getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db"))
                .string();
    remove_files();
  }
  void TearDown() override { remove_files(); }
  void remove_files() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
  }
  static std::int64_t pragma(sqlite::Connection& db, const std::string& name) {
    return db.query({"PRAGMA " + name})[0][0].get<std::int64_t>();
  }
  std::string path_;
};

TEST_F(SqliteSettings, ANewFileHasSmallPagesAndCheckpointsEvery16MiB) {
  auto db = open_sqlite_database(path_);
  EXPECT_EQ(pragma(*db, "page_size"), concrete::kSqlitePageSize);
  EXPECT_EQ(pragma(*db, "page_size"), 1024);
  EXPECT_EQ(pragma(*db, "wal_autocheckpoint"), (16 << 20) / 1024);
  // On the file, not only in this connection: another connection reads the same page size.
  sqlite::Connection other(path_);
  EXPECT_EQ(pragma(other, "page_size"), 1024);
}

TEST_F(SqliteSettings, AnOlderFileKeepsItsPagesAndItsRows) {
  {
    sqlite::Connection old(path_);
    old.exec("PRAGMA page_size=4096");
    old.query({"PRAGMA journal_mode=WAL"});
    old.exec(concrete::sqlite_schema());
    old.exec("INSERT INTO origins VALUES ('o', 1, 5)");
  }
  auto db = open_sqlite_database(path_);
  EXPECT_EQ(pragma(*db, "page_size"), 4096);
  EXPECT_EQ(pragma(*db, "wal_autocheckpoint"), (16 << 20) / 4096);
  EXPECT_EQ(db->query({"SELECT clock FROM origins WHERE origin = 'o'"})[0][0], 5);
}

}  // namespace
}  // namespace seer::promises::server
