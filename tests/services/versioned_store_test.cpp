#include "seer/services/versioned_store.hpp"

#include <gtest/gtest.h>

namespace seer::services {
namespace {

TEST(VersionedStore, ViewsAsOfAnyRevision) {
  VersionedStore s;
  EXPECT_FALSE(s.latest("a").exists);
  EXPECT_EQ(s.write("a", 1), 1);
  EXPECT_EQ(s.write("b", 2), 2);
  EXPECT_EQ(s.write("a", 3), 3);
  EXPECT_EQ(s.erase("b"), 4);
  EXPECT_EQ(s.at("a", 0).exists, false);
  EXPECT_EQ(s.at("a", 2).value, 1);
  EXPECT_EQ(s.at("a", 2).revision, 1);
  EXPECT_EQ(s.latest("a").value, 3);
  EXPECT_TRUE(s.at("b", 3).exists);
  EXPECT_FALSE(s.latest("b").exists);
  EXPECT_EQ(s.changes_after("a", 1), 1);
  EXPECT_EQ(s.changes_after("a", 3), 0);
  EXPECT_EQ(s.keys_at(2, ""), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s.keys_at(4, ""), (std::vector<std::string>{"a"}));
  EXPECT_TRUE(s.keys_at(4, "c").empty());
}

// Reads hand out references (no copies of the values), and they stay valid as the store grows.
TEST(VersionedStore, ReadsAreReferencesThatOutliveLaterWrites) {
  VersionedStore s;
  s.write("a", nlohmann::json{{"v", 1}});
  const auto& first = s.latest("a");
  const auto& history = s.versions("a");
  for (int i = 2; i <= 1000; ++i) s.write("a", nlohmann::json{{"v", i}});
  for (int i = 0; i < 100; ++i) s.write("k" + std::to_string(i), i);
  EXPECT_EQ(first.value, (nlohmann::json{{"v", 1}}));
  EXPECT_EQ(first.revision, 1);
  EXPECT_EQ(&first, &s.at("a", 1));
  ASSERT_EQ(history.size(), 1000U);
  EXPECT_EQ(history.back().value, (nlohmann::json{{"v", 1000}}));
  EXPECT_EQ(&history, &s.versions("a"));
  EXPECT_FALSE(s.latest("never").exists);
  EXPECT_EQ(s.latest("never").revision, 0);
  EXPECT_TRUE(s.versions("never").empty());
}

// Each revision names what it changed (write, deferred write or erase), and the names and versions
// it hands out stay valid as later keys rehash the index.
TEST(VersionedStore, EachRevisionNamesTheKeyItChanged) {
  VersionedStore s;
  s.write("a", 1);
  s.write("b", 2);
  s.erase("a");
  for (int i = 0; i < 500; ++i) s.write("k" + std::to_string(i), i);
  s.write("b", 3);
  ASSERT_EQ(s.revision(), 504);
  const auto first = s.change_at(1);
  EXPECT_EQ(first.key, "a");
  EXPECT_EQ(first.versions, &s.versions("a"));
  ASSERT_EQ(first.versions->size(), 2U);
  EXPECT_FALSE(first.versions->back().exists);
  EXPECT_EQ(s.change_at(2).key, "b");
  EXPECT_EQ(s.change_at(3).key, "a");
  EXPECT_EQ(s.change_at(4).key, "k0");
  EXPECT_EQ(s.change_at(503).key, "k499");
  EXPECT_EQ(s.change_at(504).key, "b");
  EXPECT_EQ(s.change_at(504).versions->back().value, 3);
}

}  // namespace
}  // namespace seer::services
