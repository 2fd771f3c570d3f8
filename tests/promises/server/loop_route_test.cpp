// The server's loops: a request goes to the loop of its origin, the same one every time.
#include "promises/server/loop_route.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace seer::promises::server {
namespace {

nlohmann::json get(const std::string& id) {
  return {{"kind", "promise.get"},
          {"head", {{"corrId", "c"}, {"version", "v"}}},
          {"data", {{"id", id}}}};
}

TEST(LoopRoute, TheRequestsOfOneOriginGoToOneLoop) {
  for (int origin = 0; origin < 50; ++origin) {
    const std::string root = "wf" + std::to_string(origin);
    const auto loop = loop_for(get(root), 4);
    EXPECT_LT(loop, 4u);
    // Promises under the root (ids.js: root:child) are in its origin.
    EXPECT_EQ(loop_for(get(root + ":step1"), 4), loop) << root;
    EXPECT_EQ(loop_for(get(root + ":step1:sub"), 4), loop) << root;
  }
}

TEST(LoopRoute, OriginsSpreadOverTheLoops) {
  std::set<std::size_t> used;
  for (int origin = 0; origin < 100; ++origin) {
    used.insert(loop_for(get("o" + std::to_string(origin)), 4));
  }
  EXPECT_EQ(used.size(), 4u);
}

TEST(LoopRoute, ARequestNamingNoPromiseGoesToTheFirstLoop) {
  EXPECT_EQ(loop_for(nlohmann::json::object(), 4), 0u);
  EXPECT_EQ(loop_for("not a request", 4), 0u);
  const nlohmann::json search = {{"kind", "promise.search"},
                                 {"head", {{"corrId", "c"}, {"version", "v"}}},
                                 {"data", {{"id", "*"}, {"state", "pending"}}}};
  EXPECT_EQ(loop_for(search, 4), 0u);
  EXPECT_EQ(loop_for(get("anything"), 1), 0u);
}

}  // namespace
}  // namespace seer::promises::server
