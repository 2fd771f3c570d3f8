// Options shared by run, sweep and replay, and their validation into a RunConfig.
#pragma once

#include "command.hpp"
#include "seer/sim/system.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace seer::cli {

struct RunOptions {
  std::string system;
  std::string variant;
  std::string faults = "swarm";
  int ops = 50;
  int clients = 0;  // --clients: fewer concurrent clients than the system's default (0: default)
  std::vector<std::string> services;  // NAME=IMPL, e.g. kv=stale
  bool no_heal = false;               // --no-heal: no heal phase, liveness unchecked
  bool json = false;
};

// Registers SYSTEM, --variant, --ops, --clients, --faults, --service, --no-heal and --json on
// `app`.
void add_run_options(CLI::App& app, RunOptions& options);

// Looks up the system and variant and checks --service choices against the services the system
// uses; throws UsageError naming the known ones.
const sim::System& resolve_system(const RunOptions& options, std::string& variant_out);
sim::RunConfig make_config(const RunOptions& options, std::uint64_t seed);

struct SeedRange {
  std::uint64_t first = 1;
  std::uint64_t last = 1;
};
// The most seeds one sweep runs (a billion runs is days of work; more is a typo).
inline constexpr std::uint64_t kMaxSweepSeeds = 1'000'000'000;
// A..B, inclusive, with at most kMaxSweepSeeds seeds; throws UsageError.
SeedRange parse_seed_range(const std::string& text);

// The `seer run` command line that reproduces `seed` with these options (ops, faults, services).
std::string reproduce_command(const RunOptions& options, const std::string& system,
                              const std::string& variant, std::uint64_t seed);
std::uint64_t parse_seed(const std::string& text);

nlohmann::json run_result_json(const sim::System& system, const std::string& variant,
                               const sim::RunResult& result);

// Writes the trace (header, events, footer) to `path`; throws UsageError if it cannot.
void write_trace_file(const std::string& path, const nlohmann::json& header,
                      const sim::RunResult& result);
// Opens `path` for writing now, so a bad path fails before a long run.
void check_writable(const std::string& path);

}  // namespace seer::cli
