// seer shrink on each example system's failing regression seed: a smaller run that fails the same
// invariant, replays byte for byte, shrinks the same way twice, and explains to the same kind of
// cause in a short slice.
#include "seer/shrink/shrink.hpp"
#include "builtin_system.hpp"
#include "seer/explain/explain.hpp"
#include "seer/sim/run_file.hpp"
#include "trace_fixture.hpp"

#include <gtest/gtest.h>

namespace seer::shrink {
namespace {

struct Case {
  const char* system;
  const char* variant;
  std::uint64_t seed;
  std::map<std::string, std::string> services;
  const char* cause;  // the explanation's top cause kind on the shrunk run
};

const Case kCases[] = {
    {"counter", "naive", 1, {}, "outdated_read"},
#ifndef SEER_SANITIZED
    // Its shrink replays a crash-heavy register run thousands of times: 77 s under the sanitizers
    // for no code path the other cases leave out.
    {"register", "naive", 7, {}, "crash_lost_data"},
#endif
    {"jobs", "naive", 3, {}, "lost_response"},
    {"bank", "check-then-act", 3, {}, "outdated_read"},
    {"segments", "list-then-put", 1, {{"object-store", "stale-list"}}, "stale_read"},
    {"kv-contract", "default", 9, {{"kv", "stale"}}, "stale_read"},
    // A liveness violation: the shrunk run must stay stuck on the same property.
    {"jobs", "claim", 1, {}, "lost_response"},
};

// Readable test logs instead of gtest's byte dump.
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.system << "/" << c.variant << " seed " << c.seed;
}

ShrinkResult shrink_case(const Case& c) {
  sim::RunConfig config;
  config.seed = c.seed;
  config.services = c.services;
  config.record_trace = true;
  ShrinkOptions options;
  options.time_limit_s = 1e9;  // the run budget alone bounds it, so the result is deterministic
  return shrink_run(seer::testing::builtin_system(c.system), c.variant, config, options);
}

std::string trace_text(const Case& c, const ShrinkResult& r) {
  return sim::trace_text(seer::testing::builtin_system(c.system), c.variant, r.shrunk,
                         r.shrunk_result);
}

class ShrinkCase : public ::testing::TestWithParam<Case> {};

TEST_P(ShrinkCase, SmallerRunFailsTheSameInvariantAndExplainsTheSameWay) {
  const auto& c = GetParam();
  const auto r = shrink_case(c);
  ASSERT_TRUE(r.failing);
  ASSERT_TRUE(r.shrunk_result.violation);
  EXPECT_EQ(r.shrunk_result.violation->invariant, r.invariant);
  EXPECT_EQ(r.original_result.violation->invariant, r.invariant);
  EXPECT_EQ(r.shrunk_result.violation->liveness, r.original_result.violation->liveness);
  EXPECT_FALSE(r.budget_exhausted) << r.runs << " runs";
  EXPECT_LE(r.shrunk.ops, r.original.ops);
  EXPECT_LE(r.shrunk_result.events, r.original_result.events);
  EXPECT_LE(r.shrunk.schedule->fault_count(), r.original_faults);
  EXPECT_LE(r.shrunk.schedule->latencies.size(), r.original_latencies);

  // Replays byte for byte, also through the run file's JSON form.
  const auto again = sim::run_system(seer::testing::builtin_system(c.system), c.variant, r.shrunk);
  EXPECT_EQ(again.trace_hash, r.shrunk_result.trace_hash);
  EXPECT_EQ(again.trace_lines, r.shrunk_result.trace_lines);
  const auto file = sim::run_file_json(c.system, c.variant, r.shrunk, r.shrunk_result);
  auto described = sim::parse_run_fields(nlohmann::json::parse(file.dump()));
  described.config.record_trace = true;
  const auto from_file =
      sim::run_system(seer::testing::builtin_system(c.system), c.variant, described.config);
  EXPECT_EQ(sim::hash_hex(from_file.trace_hash), described.expected_trace_hash);

  // The explanation of the shrunk run is short and names the same kind of cause.
  const auto trace = explain::testing::parse(trace_text(c, r));
  const explain::CausalGraph graph(trace);
  const auto x = explain::explain_trace(trace, graph);
  ASSERT_FALSE(x.causes.empty());
  EXPECT_EQ(x.causes.front().kind, c.cause) << x.causes.front().summary;
  EXPECT_LE(x.slice.size(), 25u);
  // A liveness violation explains the same entity being stuck.
  EXPECT_EQ(x.stuck.is_object(), r.shrunk_result.violation->liveness);
  RecordProperty("shrunk_events", static_cast<int>(r.shrunk_result.events));
  RecordProperty("slice", static_cast<int>(x.slice.size()));
}

INSTANTIATE_TEST_SUITE_P(Systems, ShrinkCase, ::testing::ValuesIn(kCases), [](const auto& info) {
  std::string name = std::string(info.param.system) + "_" + info.param.variant;
  for (auto& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
});

TEST(Shrink, IsDeterministic) {
  const auto a = shrink_case(kCases[0]);
  const auto b = shrink_case(kCases[0]);
  EXPECT_EQ(a.runs, b.runs);
  EXPECT_EQ(a.shrunk.ops, b.shrunk.ops);
  EXPECT_EQ(a.shrunk.schedule->to_json(), b.shrunk.schedule->to_json());
  EXPECT_EQ(a.shrunk_result.trace_hash, b.shrunk_result.trace_hash);
}

TEST(Shrink, AHeldRunHasNothingToShrink) {
  sim::RunConfig config;
  config.seed = 1;
  const auto r = shrink_run(seer::testing::builtin_system("counter"), "cas", config);
  EXPECT_FALSE(r.failing);
  EXPECT_FALSE(r.original_result.violation);
}

TEST(Shrink, TheRunBudgetBoundsTheSearch) {
  sim::RunConfig config;
  config.seed = 7;
  ShrinkOptions options;
  options.max_runs = 5;
  const auto r = shrink_run(seer::testing::builtin_system("register"), "naive", config, options);
  ASSERT_TRUE(r.failing);
  EXPECT_TRUE(r.budget_exhausted);
  EXPECT_LE(r.runs, 7u);  // the budget, the recorded run and the final replay
  ASSERT_TRUE(r.shrunk_result.violation);
  EXPECT_EQ(r.shrunk_result.violation->invariant, r.invariant);
}

}  // namespace
}  // namespace seer::shrink
