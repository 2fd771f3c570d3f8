// Keyed histories whose keys cost a known number of search steps, for the tests of checking keys
// in rounds (rounds_test.cpp, rounds_slow_test.cpp).
#pragma once

#include "operation_builders.hpp"
#include "seer/check/linearizability.hpp"

#include <string>
#include <vector>

namespace seer::check::testing {

// n concurrent puts of 1..n and n concurrent gets, one of each value: the search tries the puts in
// order, so placing put 1 first; then
// - hard_linearizable: a get of 1 after them all, so put 1 must come last: linearizable, found
//   after many steps (n = 8: 330,000, n = 10: 4.7 million, n = 11: 17 million);
// - hard_broken: gets of 1 and then 2 after them all, which no order allows: broken, found after
//   trying them all (n = 8: 600,000 steps, n = 10: 8.3 million).
inline void add_concurrent_puts_and_gets(std::vector<Operation>& ops, const std::string& key,
                                         int n) {
  for (int i = 1; i <= n; ++i) {
    ops.push_back(keyed(i, "put", key, i, nullptr, 0, 100));
    ops.push_back(keyed(100 + i, "get", key, nullptr, i, 0, 100));
  }
}
inline void add_hard_linearizable(std::vector<Operation>& ops, const std::string& key, int n) {
  add_concurrent_puts_and_gets(ops, key, n);
  ops.push_back(keyed(1, "get", key, nullptr, 1, 200, 210));
}
inline void add_hard_broken(std::vector<Operation>& ops, const std::string& key, int n) {
  add_concurrent_puts_and_gets(ops, key, n);
  ops.push_back(keyed(1, "get", key, nullptr, 1, 200, 210));
  ops.push_back(keyed(1, "get", key, nullptr, 2, 220, 230));
}
// A put of 1, then a get of 2: broken in a few steps.
inline void add_cheap_broken(std::vector<Operation>& ops, const std::string& key) {
  ops.push_back(keyed(1, "put", key, 1, nullptr, 0, 10));
  ops.push_back(keyed(2, "get", key, nullptr, 2, 20, 30));
}

inline CheckResult check_keyed(const std::vector<Operation>& ops, unsigned jobs = 1,
                               CheckOptions options = {}) {
  auto m = make_model("kv");
  m->set_init("0");
  options.jobs = jobs;
  return check_linearizable(ops, *m, options);
}

}  // namespace seer::check::testing
