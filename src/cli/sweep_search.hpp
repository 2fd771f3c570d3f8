// `seer sweep SYSTEM --for DURATION`: a time-budgeted search, like continuous fuzzing. Instead of a
// seed range, runs are drawn from a seeded stream until the deadline: run i of stream S has a seed,
// a fault profile (unless --faults pins one: swarm testing over profiles) and a variant (with
// --variant a,b or --any-variant), all a function of (S, i) alone. So a search is reproducible from
// its stream (printed in its report) and each run from its reproduce line, which names the
// profile; only how many runs fit in the time depends on the machine. docs/scale-out.md, "Searching
// for a while".
#pragma once

#include "run_options.hpp"
#include "sweep_record.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace seer::cli {

// The longest search: a longer one is a typo, or a job for a scheduler (restarted searches with
// new streams find as much).
inline constexpr std::chrono::hours kMaxSearch{24 * 30};

// "30s", "10m", "2h", "500ms" (a positive integer and its unit, at most kMaxSearch); throws
// UsageError naming the text.
std::chrono::milliseconds parse_search_duration(const std::string& text);

struct SearchPlan {
  std::uint64_t stream = 0;
  std::vector<std::string> variants;  // valid variants of the system, drawn uniformly
  // "swarm": each run draws a profile (--faults as the reproduce line writes it); otherwise the
  // --faults every run uses.
  std::string faults = "swarm";
};

// Run `index` of the plan's stream.
struct SearchRun {
  std::uint64_t index = 0;
  std::uint64_t seed = 0;
  std::string variant;
  std::string faults;  // a --faults value: "none", or kinds with levels ("crash:3,drop:1")
};

// Deterministic in (plan, index): the same stream gives the same runs on any machine.
SearchRun search_run(const SearchPlan& plan, std::uint64_t index);

// A stream for a search not given --seed-stream: from the operating system's entropy, below 2^32
// so the printed number is short to retype.
std::uint64_t fresh_search_stream();

struct SearchFailure {
  SearchRun run;
  SweepRecord record;  // record.reproduce is the run's `seer run` line, with its variant and faults
};

struct SearchOutcome {
  std::uint64_t runs = 0;               // runs 0 to runs - 1 of the stream, all finished
  std::vector<SearchFailure> failures;  // by run index
  std::uint64_t events = 0;
  double elapsed_s = 0;
};

struct SearchSetup {
  const sim::System* system = nullptr;
  RunOptions options;  // options.faults and options.variant are the search's, not a run's
  SearchPlan plan;
  std::chrono::milliseconds budget{0};
  unsigned jobs = 1;
  bool progress = false;
  // --out: a header line (`seer_search`) and one line per run, a sweep's record with the run's
  // index, variant and faults. Always a new file (an existing one is refused: a search does not
  // resume; a new stream is a new search).
  std::string out;
};

// Runs the stream's runs on `jobs` threads until the budget is spent (runs started before the
// deadline finish), appending each to --out as it ends.
SearchOutcome run_search(const SearchSetup& setup);

// The report, as text or as JSON (sweep --json's fields, with "variants" and "search").
void print_search_text(const SearchSetup& setup, const SearchOutcome& outcome);
void print_search_json(const SearchSetup& setup, const SearchOutcome& outcome);

}  // namespace seer::cli
