// The client headers need only Env: including all four does not reach the Simulator (design code
// cannot include its way to the all-knowing simulator). Compiled on its own, outside unity batches
// (tests/services/CMakeLists.txt), so no other test's includes leak in.
#include "seer/services/kv_client.hpp"
#include "seer/services/object_client.hpp"
#include "seer/services/queue_client.hpp"
#include "seer/services/sql_client.hpp"

#include <gtest/gtest.h>

#include <type_traits>

namespace seer::sim {
class Simulator;
}

namespace {

template <class T, class = void>
struct IsComplete : std::false_type {};
template <class T>
struct IsComplete<T, std::void_t<decltype(sizeof(T))>> : std::true_type {};

static_assert(!IsComplete<seer::sim::Simulator>::value,
              "a client header includes the simulator: design code could reach it");

TEST(ClientHeaders, NeedOnlyEnv) {
  EXPECT_FALSE(IsComplete<seer::sim::Simulator>::value);
}

}  // namespace
