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

}  // namespace
}  // namespace seer::services
