// The lines of a sweep's result stream (`seer sweep --out FILE.jsonl`, read back by a resumed sweep
// and by `seer merge`). The first line is a header naming the sweep: everything that decides what a
// seed's run is (system, variant, ops, clients, faults, services, no-heal, and the seer version
// and commit that ran it), the seed range and the shard. Every other line is one seed's record. A
// resume or a merge compares headers, so results of different sweeps are never mixed.
//
//   {"seer_sweep":1,"seer_version":"0.2.0","seer_commit":"689a66b...","system":"register",
//    "variant":"naive",
//    "options":{"ops":50,"clients":0,"faults":"swarm","services":{},"no_heal":false},
//    "seeds":{"first":1,"last":1000},"shard":{"index":0,"count":4}}
//   {"seed":7,"verdict":"fail","invariant":"acked-write-durable","kind":"safety","message":"...",
//    "events":1234,"wall_s":0.0021,"reproduce":"seer run register --variant naive --seed 7"}
//   {"seed":8,"verdict":"ok","events":1022,"wall_s":0.0017,"reproduce":"seer run ..."}
#pragma once

#include "shard.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace seer::cli {

// The header's "seer_sweep": a reader refuses a newer format, naming both versions.
inline constexpr int kSweepFormat = 1;

// The seer release that wrote a header (the project's version).
const char* seer_version();
// The git commit seer was built from ("-dirty" appended if its tracked files differed from it),
// or "" if the build did not know (not a git checkout). Generated at build time.
const char* seer_commit();

struct SweepHeader {
  std::string seer_version;
  std::string seer_commit;  // "" when unknown, and in files written before it was recorded
  std::string system;
  std::string variant;
  // The options that change a run, as the run's config sees them (services by name, the last
  // --service for a name winning, so the order of the flags does not matter).
  int ops = 50;
  int clients = 0;
  std::string faults = "swarm";
  std::map<std::string, std::string> services;
  bool no_heal = false;
  SeedRange seeds;  // the whole sweep's range, not the shard's block
  Shard shard;      // index and count (where they came from is not recorded)
};

// The header of this sweep; `options` are valid (resolve_system and make_config passed).
SweepHeader sweep_header(const RunOptions& options, const std::string& system,
                         const std::string& variant, const SeedRange& seeds, const Shard& shard);

// One seed's result. Deterministic but for wall_s: the same seed and header give the same record.
struct SweepRecord {
  std::uint64_t seed = 0;
  bool ok = true;
  // For a failing seed: the invariant or liveness property, which, and its message.
  std::string invariant;
  bool liveness = false;
  std::string message;
  std::uint64_t events = 0;
  double wall_s = 0;      // the run's wall time on its thread
  std::string reproduce;  // the `seer run` command line of this seed
};

// A violation message longer than this is cut (with "...") in a record: it keeps every line
// readable under the readers' line bound (sweep_file.hpp).
inline constexpr std::size_t kMaxRecordMessage = std::size_t{64} << 10;

SweepRecord sweep_record(const sim::RunResult& result, double wall_s, std::string reproduce);

// Each line ends with '\n'. Strings that are not valid UTF-8 are written with U+FFFD in place of
// the bad bytes, so a line always reads back.
std::string sweep_header_line(const SweepHeader& header);
std::string sweep_record_line(const SweepRecord& record);
// A record's verdict and what follows it (invariant, kind and message when it failed; events,
// wall_s, reproduce), appended to `line` after the fields that locate the run (a sweep's seed; a
// search's run, seed, variant and faults): one schema for both streams.
void append_record_fields(nlohmann::ordered_json& line, const SweepRecord& record);
// `line` as one line of a stream: invalid UTF-8 replaced, '\n' at the end.
std::string stream_line(const nlohmann::ordered_json& line);

// Parse one line (without its '\n'); throw std::invalid_argument saying what is wrong, for the
// reader to prefix with the file and line.
SweepHeader parse_sweep_header(std::string_view line);
SweepRecord parse_sweep_record(std::string_view line);

// A field in which two headers or two records differ, with its two values made printable on one
// line (control characters escaped, long strings cut).
struct FieldDifference {
  std::string field;
  std::string first;
  std::string second;
};

// The first field in which two headers differ, or nullopt. A resume compares the shard too
// (`with_shard`); the shards of one sweep differ only there.
std::optional<FieldDifference> sweep_header_difference(const SweepHeader& a, const SweepHeader& b,
                                                       bool with_shard);

// The first deterministic field (verdict, invariant, kind, message, events) in which two records
// of one seed differ, or nullopt: the same seed must give the same result.
std::optional<FieldDifference> sweep_record_difference(const SweepRecord& a, const SweepRecord& b);

}  // namespace seer::cli
