// What both stores' group-commit tests write (SQLite: group_commit_test.cpp, PostgreSQL:
// postgres_group_commit_test.cpp), on the tables t (id TEXT PRIMARY KEY) and r (k, revision).
#pragma once

#include "promises/server/group_commit.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace seer::promises::server::workload {

inline sql::Statement insert(const std::string& id) {
  return {"INSERT INTO t VALUES (?1)", {id}};
}

// Compare-and-set of r's revision, as the server's guard is.
inline sql::Statement cas(std::int64_t from) {
  return {"UPDATE r SET revision = ?1 WHERE k = 1 AND revision = ?2", {from + 1, from}, 1};
}

// Six writers, each reading r's revision on its own connection (`open()`) and compare-and-setting
// it through `group` 30 times, with an insert beside each. Returns how many committed; a write that
// did not commit must have failed its guard.
template <class Open>
int compare_and_set_from_six_writers(GroupCommit& group, Open open) {
  std::atomic<int> succeeded{0};
  std::vector<std::thread> writers;
  writers.reserve(6);
  for (int w = 0; w < 6; ++w) {
    writers.emplace_back([&, w] {
      auto reader = open();
      for (int i = 0; i < 30; ++i) {
        const auto revision =
            reader->query({"SELECT revision FROM r"})[0][0].template get<std::int64_t>();
        const auto out =
            group.write({cas(revision), insert(std::to_string(w) + "-" + std::to_string(i))});
        if (out.committed) {
          ++succeeded;
        } else {
          EXPECT_TRUE(out.guard_failed) << out.error;
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  return succeeded.load();
}

}  // namespace seer::promises::server::workload
