// FileStorage: own writes are seen at once, synced ones survive reopening, unsynced ones do not
// (dropping the object without sync is a crash), a torn last frame is ignored, and LoopEnv's
// `co_await env.sync()` is what makes writes durable.
#include "seer/runtime/file_storage.hpp"
#include "seer/runtime/loop_env.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace seer::runtime {
namespace {

class FileStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("file_storage_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir() const { return dir_.string(); }
  std::filesystem::path dir_;
};

TEST_F(FileStorageTest, SeesOwnWritesAndListsKeysInOrder) {
  FileStorage s(dir());
  s.put("b/2", "two");
  s.put("a", "zero");
  s.put("b/1", "one");
  s.put("c", "three");
  EXPECT_EQ(s.get("b/2"), "two");
  EXPECT_EQ(s.keys("b/"), (std::vector<std::string>{"b/1", "b/2"}));
  s.erase("b/1");
  EXPECT_EQ(s.get("b/1"), std::nullopt);
  EXPECT_EQ(s.keys(""), (std::vector<std::string>{"a", "b/2", "c"}));
}

TEST_F(FileStorageTest, SyncedWritesSurviveReopeningAndUnsyncedOnesDoNot) {
  {
    FileStorage s(dir());
    s.put("kept", "1");
    s.put("erased", "x");
    s.put("binary", std::string("a\0b\xff", 4));
    s.sync();
    s.erase("erased");
    s.sync();
    s.put("lost", "2");  // never synced: the "crash" below drops it
    s.erase("kept");     // likewise
  }
  FileStorage s(dir());
  EXPECT_EQ(s.get("kept"), "1");
  EXPECT_EQ(s.get("binary"), std::string("a\0b\xff", 4));
  EXPECT_EQ(s.get("erased"), std::nullopt);
  EXPECT_EQ(s.get("lost"), std::nullopt);
  EXPECT_EQ(s.keys(""), (std::vector<std::string>{"binary", "kept"}));
}

TEST_F(FileStorageTest, ATornLastFrameIsIgnoredAndLaterSyncsStillCount) {
  {
    FileStorage s(dir());
    s.put("a", "1");
    s.sync();
    s.put("b", "2");
    s.sync();
  }
  const auto log = dir_ / "storage.log";
  // Reopening compacted the log to one frame; tear the second one written since.
  {
    FileStorage s(dir());
    s.put("c", "3");
    s.sync();
  }
  std::filesystem::resize_file(log, std::filesystem::file_size(log) - 1);
  {
    FileStorage s(dir());
    EXPECT_EQ(s.keys(""), (std::vector<std::string>{"a", "b"}));
    s.put("d", "4");
    s.sync();
  }
  FileStorage s(dir());
  EXPECT_EQ(s.keys(""), (std::vector<std::string>{"a", "b", "d"}));
}

TEST_F(FileStorageTest, LoopEnvSyncMakesWritesDurable) {
  {
    FileStorage storage(dir());
    LoopEnv env(
        1, "p", [](sim::ProcessId, const sim::PayloadPtr&) {}, &storage);
    env.run([](sim::Env& e) -> sim::Task<void> {
      e.storage().put("synced", "yes");
      co_await e.sync();
      e.storage().put("unsynced", "no");
    }(env));
  }
  FileStorage s(dir());
  EXPECT_EQ(s.get("synced"), "yes");
  EXPECT_EQ(s.get("unsynced"), std::nullopt);
}

}  // namespace
}  // namespace seer::runtime
