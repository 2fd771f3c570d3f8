// The explicit fault schedule: a seeded run's recorded schedule replays it exactly (same trace
// hash), the JSON form round-trips and rejects bad input, and removing a fault really removes it.
#include "builtin_system.hpp"
#include "schedule_subset.hpp"
#include "seer/sim/run_file.hpp"
#include "seer/sim/system.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace seer::shrink {
namespace {

sim::RunResult run(const std::string& system, const std::string& variant, sim::RunConfig config) {
  return sim::run_system(seer::testing::builtin_system(system), variant, config);
}

struct ScheduleCase {
  const char* system;
  const char* variant;
  std::map<std::string, std::string> services;
};

// Every fault kind appears across these systems and seeds (swarm profiles).
const ScheduleCase kScheduleCases[] = {
    {"counter", "naive", {}},
    {"register", "naive", {}},
    {"jobs", "naive", {}},
    {"bank", "check-then-act", {}},
    {"kv-contract", "default", {{"kv", "stale"}}},
    {"segments", "list-then-put", {{"object-store", "stale-list"}}},
    {"sql-contract", "default", {}}};

TEST(Schedule, ReplayingTheRecordedScheduleReproducesTheSeededRun) {
  std::size_t with_faults = 0;
  std::map<std::string, std::size_t> kinds;
  for (const auto& c : kScheduleCases) {
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
      sim::RunConfig config;
      config.seed = seed;
      config.services = c.services;
      config.record_schedule = true;
      const auto seeded = run(c.system, c.variant, config);
      ASSERT_TRUE(seeded.schedule);
      const auto& s = *seeded.schedule;
      with_faults += s.fault_count() > 0 ? 1 : 0;
      kinds["drop"] += s.drops.size();
      kinds["duplicate"] += s.duplicates.size();
      kinds["crash"] += s.crashes.size();
      kinds["pause"] += s.pauses.size();
      kinds["partition"] += s.partitions.size();
      kinds["clock"] += s.clocks.size();
      kinds["service"] += s.service_faults.size();
      kinds["torn"] += static_cast<std::size_t>(
          std::count_if(s.crashes.begin(), s.crashes.end(), [](const auto& k) { return k.torn; }));

      auto replay = config;
      replay.schedule = seeded.schedule;
      const auto replayed = run(c.system, c.variant, replay);
      EXPECT_EQ(replayed.trace_hash, seeded.trace_hash) << c.system << " seed " << seed;
      EXPECT_EQ(replayed.violation.has_value(), seeded.violation.has_value());
      // What the replay decided is what it was told.
      EXPECT_EQ(replayed.schedule->to_json(), s.to_json()) << c.system << " seed " << seed;
    }
  }
  EXPECT_GT(with_faults, 40u);
  for (const auto& [kind, n] : kinds) EXPECT_GT(n, 0u) << "no " << kind << " fault was exercised";
}

TEST(Schedule, JsonRoundTrips) {
  sim::RunConfig config;
  config.seed = 7;
  config.record_schedule = true;
  const auto r = run("register", "naive", config);
  const auto j = r.schedule->to_json();
  EXPECT_EQ(sim::FaultSchedule::from_json(j).to_json(), j);
  EXPECT_EQ(sim::FaultSchedule::from_json(nlohmann::json::object()).size(), 0u);
}

TEST(Schedule, RejectsMalformedJsonNamingTheField) {
  const auto error = [](const char* text) {
    try {
      sim::FaultSchedule::from_json(nlohmann::json::parse(text));
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(error(R"({"drops":[["a","b"]]})").find("drops[0]"), std::string::npos);
  EXPECT_NE(error(R"({"latencies":[["a","b",1,-5]]})").find("latencies[0]"), std::string::npos);
  EXPECT_NE(error(R"({"crashes":[{"process":"a","at":"soon","down":1}]})").find("crashes[0].at"),
            std::string::npos);
  EXPECT_NE(error(R"({"crashes":[{"process":"a","at":-1,"down":1}]})").find("negative"),
            std::string::npos);
  EXPECT_NE(error(R"({"partitions":5})").find("partitions"), std::string::npos);
  EXPECT_NE(error(R"({"default_latency_ns":0})").find("default_latency_ns"), std::string::npos);
  EXPECT_NE(error(R"([1,2])").find("object"), std::string::npos);
  EXPECT_NE(error(R"({"service_faults":[["kv","lost_response"]]})").find("service_faults[0]"),
            std::string::npos);
}

TEST(Schedule, UnknownProcessNamesAreRejectedWhenTheRunStarts) {
  sim::RunConfig config;
  config.schedule = std::make_shared<sim::FaultSchedule>(sim::FaultSchedule::from_json(
      nlohmann::json::parse(R"({"crashes":[{"process":"nobody","at":5,"down":5}]})")));
  EXPECT_THROW(run("counter", "naive", config), std::invalid_argument);
  // A shrink candidate with fewer clients skips what it says about the clients that are gone.
  config.lenient_schedule = true;
  EXPECT_NO_THROW(run("counter", "naive", config));
}

TEST(Schedule, FewerClientsRunFewerClientProcesses) {
  sim::RunConfig config;
  config.clients = 1;
  const auto one = run("kv-contract", "default", config);
  config.clients = 0;
  const auto all = run("kv-contract", "default", config);
  EXPECT_EQ(all.process_names.size(), one.process_names.size() + 2);
  config.clients = 99;  // at or above the default: the default
  EXPECT_EQ(run("kv-contract", "default", config).trace_hash, all.trace_hash);
}

TEST(Schedule, WithoutItsCrashesARunHasNoCrashEvents) {
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    sim::RunConfig config;
    config.seed = seed;
    config.record_schedule = true;
    config.faults = sim::FaultProfile::parse_list("crash,drop");
    const auto seeded = run("register", "naive", config);
    if (seeded.schedule->crashes.empty() || seeded.schedule->drops.empty()) continue;
    // Keep the drops (the first faults in the flat order), remove the crashes.
    std::vector<std::size_t> drops(seeded.schedule->drops.size());
    for (std::size_t i = 0; i < drops.size(); ++i) drops[i] = i;
    auto replay = config;
    replay.record_trace = true;
    replay.schedule = std::make_shared<sim::FaultSchedule>(with_faults(*seeded.schedule, drops));
    const auto r = run("register", "naive", replay);
    EXPECT_TRUE(r.schedule->crashes.empty());
    EXPECT_FALSE(r.schedule->drops.empty());
    for (const auto& line : r.trace_lines) {
      EXPECT_EQ(line.find("\"kind\":\"crash\""), std::string::npos) << line;
    }
    return;
  }
  FAIL() << "no seed with both crashes and drops";
}

TEST(Schedule, RunFileRoundTripsTheRunFields) {
  sim::RunConfig config;
  config.seed = 3;
  config.ops = 17;
  config.clients = 2;
  config.services = {{"kv", "stale"}};
  config.faults = sim::FaultProfile::parse_list("drop,crash");
  config.record_schedule = true;
  const auto r = run("kv-contract", "default", config);
  auto with_schedule = config;
  with_schedule.schedule = r.schedule;
  const auto j = sim::run_file_json("kv-contract", "default", with_schedule, r);
  const auto d = sim::parse_run_fields(j);
  EXPECT_EQ(d.system, "kv-contract");
  EXPECT_EQ(d.config.seed, 3u);
  EXPECT_EQ(d.config.ops, 17);
  EXPECT_EQ(d.config.clients, 2);
  EXPECT_EQ(d.config.services, config.services);
  ASSERT_TRUE(d.config.faults.has_value());
  EXPECT_EQ(d.config.faults->size(), 2u);
  ASSERT_TRUE(d.config.schedule);
  EXPECT_EQ(d.config.schedule->to_json(), r.schedule->to_json());
  EXPECT_EQ(d.expected_trace_hash, sim::hash_hex(r.trace_hash));
  EXPECT_THROW(sim::parse_run_fields(nlohmann::json{{"system", "x"}}), std::invalid_argument);
}

}  // namespace
}  // namespace seer::shrink
