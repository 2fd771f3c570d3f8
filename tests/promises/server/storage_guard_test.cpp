// The SQLite file's guards (storage_guard.hpp): its identity noticed deleted or replaced, one lock
// per file, and store errors logged once per cause.
#include "promises/server/storage_guard.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace seer::promises::server {
namespace {

std::filesystem::path temp_file(const std::string& name) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("seer-storage-guard-" + std::to_string(getpid()) + "-" + name);
  std::ofstream(path) << "x";
  return path;
}

TEST(FileIdentity, NoticesTheFileDeletedOrReplaced) {
  const auto path = temp_file("identity");
  const FileIdentity identity(path.string());
  EXPECT_FALSE(identity.changed());
  std::ofstream(path, std::ios::app) << "more";  // written in place: the same file
  EXPECT_FALSE(identity.changed());
  const auto other = temp_file("identity-other");
  std::filesystem::rename(other, path);  // another file moved over it
  ASSERT_TRUE(identity.changed());
  EXPECT_NE(identity.changed()->find("was replaced"), std::string::npos);
  std::filesystem::remove(path);
  ASSERT_TRUE(identity.changed());
  EXPECT_NE(identity.changed()->find("was deleted"), std::string::npos);
}

TEST(LockDatabaseFile, ASecondLockOnTheSameFileIsRefused) {
  const auto path = temp_file("lock");
  lock_database_file(path.string());
  try {
    lock_database_file(path.string());  // another open file description, as another process has
    FAIL() << "a second lock was taken";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("in use by another seer-resonate"), std::string::npos);
  }
  std::filesystem::remove(path);
}

TEST(LogLimiter, LogsEachCauseOnceWithinItsPeriod) {
  std::vector<std::string> lines;
  LogLimiter limit([&](const std::string& l) { lines.push_back(l); }, std::chrono::hours(1));
  for (int i = 0; i < 1000; ++i) limit("reading origin o" + std::to_string(i) + ": disk I/O error");
  limit("writing origin p: database or disk is full");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "reading origin o0: disk I/O error");
  EXPECT_EQ(lines[1], "writing origin p: database or disk is full");
}

TEST(LogLimiter, SaysHowManyWereNotLoggedWhenItLogsACauseAgain) {
  std::vector<std::string> lines;
  LogLimiter limit([&](const std::string& l) { lines.push_back(l); }, std::chrono::seconds(0));
  limit("a: cause");
  limit("b: cause");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1].rfind("b: cause (and 0 more like it in ", 0), 0u) << lines[1];
}

}  // namespace
}  // namespace seer::promises::server
