// release_json (include/seer/json_release.hpp): empties a document before its destructor runs,
// without recursing past a bounded depth.
#include "seer/json_release.hpp"

#include <gtest/gtest.h>

namespace seer::json_release_test {

using json = nlohmann::json;

TEST(JsonRelease, EmptiesObjectsAndArraysAtEveryLevel) {
  json j = {{"kind", "promise.create"},
            {"head", {{"corrId", "c-1"}}},
            {"data", {{"tags", json::array({1, json::array({2, 3}), {{"a", "b"}}})}}}};
  release_json(j);
  EXPECT_TRUE(j.is_object());
  EXPECT_TRUE(j.empty());

  json array = json::array({json::object({{"x", 1}}), json::array({4})});
  release_json(array);
  EXPECT_TRUE(array.is_array());
  EXPECT_TRUE(array.empty());
}

TEST(JsonRelease, LeavesScalarsAlone) {
  json number = 7;
  json text = "seer";
  release_json(number);
  release_json(text);
  EXPECT_EQ(number, 7);
  EXPECT_EQ(text, "seer");
}

TEST(JsonRelease, LeavesDeepNestingToTheDestructor) {
  // Deeper than any stack would take recursively: released down to the bound, the rest is freed
  // by nlohmann's iterative destructor (the test passes by not crashing).
  json deep = json::array();
  json* at = &deep;
  for (int i = 0; i < 200'000; ++i) {
    at->push_back(json::array());
    at = &(*at)[0];
  }
  json kept = {{"deep", std::move(deep)}, {"flat", 1}};
  release_json(kept);
  EXPECT_TRUE(kept.empty());
  json shallow = json::array({json::array({json::array({1})})});
  release_json(shallow);
  EXPECT_TRUE(shallow.empty());
}

}  // namespace seer::json_release_test
