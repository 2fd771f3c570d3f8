// The server's loops: a request goes to the loop of its origin, the same one every time.
#include "promises/server/loop_route.hpp"

#include "promises/model/parse.hpp"

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

TEST(LoopRoute, AParsedRequestGoesWhereItsJsonWould) {
  for (int origin = 0; origin < 50; ++origin) {
    const auto request = get("o" + std::to_string(origin) + ":child");
    const auto parsed = parse_request(request);
    const auto* named = std::get_if<Request>(&parsed);
    ASSERT_NE(named, nullptr);
    EXPECT_EQ(loop_for(named, 4), loop_for(request, 4));
    EXPECT_EQ(loop_for(named, 1), 0u);
  }
  EXPECT_EQ(loop_for(static_cast<const Request*>(nullptr), 4), 0u);  // malformed
}

}  // namespace
}  // namespace seer::promises::server
