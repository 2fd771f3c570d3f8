// `seer merge FILES...`: the report of one sweep from the --out files of its shards (and of its
// resumed runs), as `seer sweep` would have printed it on one machine. The files must be of one
// sweep (system, variant, options, seer version and commit, and seed range; their shards may
// differ), a seed recorded twice must have the same result both times, and the seeds no file
// records are named: a merge with seeds missing is not a complete sweep (docs/scale-out.md). Exit 1
// if a seed failed; else 2 if seeds are missing (the report is still printed); else 0.
#include "sweep_file.hpp"
#include "sweep_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>

namespace seer::cli {

namespace {

// Where a record was read, for errors naming both copies of a seed.
struct MergeWhere {
  std::size_t file = 0;
  std::uint64_t line = 0;
};

struct MergeFirst {
  SweepRecord record;
  MergeWhere where;
};

class MergeState {
 public:
  explicit MergeState(const std::vector<std::string>& files) : files_(files) {}

  void read_all() {
    for (std::size_t f = 0; f < files_.size(); ++f) {
      read_sweep_file(
          files_[f], [&](const SweepHeader& h) { take_header(h, f); },
          [&](const SweepRecord& r, std::uint64_t line) {
            take_record(r, {f, line});
          });
    }
    if (!duplicates_.empty()) check_duplicates();
  }

  const SweepHeader& header() const { return *header_; }
  std::uint64_t runs() const { return runs_; }
  std::uint64_t events() const { return events_; }
  // Microseconds, as recorded (a sum of a million doubles is not exact beyond them).
  double run_seconds() const { return std::round(run_seconds_ * 1e6) / 1e6; }

  bool has_failures() const { return !failures_.empty(); }

  std::vector<SweepRecord> failures() const {
    std::vector<SweepRecord> out;
    for (const auto& [seed, first] : failures_) out.push_back(first.record);
    return out;  // in seed order: failures_ is a map
  }

  // The first `most` ranges of seeds no file records, in order; `count` gets how many seeds
  // (all of them: a range of a billion seeds could otherwise hold half a billion ranges).
  std::vector<SeedRange> missing(std::size_t most, std::uint64_t& count) const {
    std::vector<SeedRange> out;
    count = 0;
    const auto first = header_->seeds.first;
    bool in_gap = false;  // the seeds from gap_start on are missing
    std::uint64_t gap_start = 0;
    const auto end_gap = [&](std::uint64_t end) {
      if (in_gap && out.size() < most) out.push_back({first + gap_start, first + end - 1});
      in_gap = false;
    };
    for (std::uint64_t i = 0; i < seen_.size(); ++i) {
      if (seen_[i]) {
        end_gap(i);
      } else {
        ++count;
        if (!in_gap) gap_start = i;
        in_gap = true;
      }
    }
    end_gap(seen_.size());
    return out;
  }

 private:
  std::string at(const MergeWhere& w) const {
    return files_[w.file] + ":" + std::to_string(w.line);
  }

  void take_header(const SweepHeader& h, std::size_t file) {
    if (!header_) {
      header_ = h;
      header_file_ = file;
      seen_.assign(h.seeds.last - h.seeds.first + 1, false);
      return;
    }
    if (const auto d = sweep_header_difference(*header_, h, false)) {
      throw UsageError(files_[header_file_] + " and " + files_[file] +
                       " are not of one sweep: " + d->field + " " + d->first + " vs " + d->second);
    }
  }

  void take_record(const SweepRecord& r, const MergeWhere& where) {
    // read_sweep_file checked the seed is in its header's shard, so within the range.
    const auto i = r.seed - header_->seeds.first;
    if (!seen_[i]) {
      seen_[i] = true;
      ++runs_;
      events_ += r.events;
      run_seconds_ += r.wall_s;
      if (!r.ok) failures_.emplace(r.seed, MergeFirst{r, where});
      return;
    }
    if (const auto it = failures_.find(r.seed); it != failures_.end()) {
      disagree(it->second, r, where);
    } else {
      // The first copy passed and is not kept: compare on a second reading (check_duplicates).
      duplicates_.push_back(r.seed);
    }
  }

  void disagree(const MergeFirst& first, const SweepRecord& r, const MergeWhere& where) const {
    if (const auto d = sweep_record_difference(first.record, r)) {
      throw UsageError(at(first.where) + " and " + at(where) + " disagree on seed " +
                       std::to_string(r.seed) + ": " + d->field + " " + d->first + " vs " +
                       d->second + " (the same seed and options must give the same result)");
    }
  }

  // Reads the files again for the seeds recorded twice whose first copy passed, comparing every
  // copy with the first. Kept out of the first reading so a merge holds one bit per seed, not a
  // record: shards merged once have no duplicates.
  void check_duplicates() {
    std::sort(duplicates_.begin(), duplicates_.end());
    duplicates_.erase(std::unique(duplicates_.begin(), duplicates_.end()), duplicates_.end());
    std::map<std::uint64_t, MergeFirst> firsts;
    for (std::size_t f = 0; f < files_.size(); ++f) {
      read_sweep_file(
          files_[f], [](const SweepHeader&) {},
          [&](const SweepRecord& r, std::uint64_t line) {
            if (!std::binary_search(duplicates_.begin(), duplicates_.end(), r.seed)) return;
            const auto [it, inserted] = firsts.emplace(r.seed, MergeFirst{r, {f, line}});
            if (!inserted) disagree(it->second, r, {f, line});
          });
    }
  }

  const std::vector<std::string>& files_;
  std::optional<SweepHeader> header_;
  std::size_t header_file_ = 0;
  std::vector<bool> seen_;  // by seed - first of the range
  std::uint64_t runs_ = 0;
  std::uint64_t events_ = 0;
  double run_seconds_ = 0;
  std::map<std::uint64_t, MergeFirst> failures_;
  std::vector<std::uint64_t> duplicates_;
};

std::string merge_range(const SeedRange& r) {
  return r.first == r.last ? std::to_string(r.first)
                           : std::to_string(r.first) + ".." + std::to_string(r.last);
}

// The most missing ranges listed (JSON) and shown (text); the count is always complete.
constexpr std::size_t kMergeMissingJson = 1000;
constexpr std::size_t kMergeMissingText = 5;

std::string merge_missing_text(const std::vector<SeedRange>& missing) {
  std::string text;
  for (std::size_t i = 0; i < missing.size() && i < kMergeMissingText; ++i) {
    text += (i ? ", " : "") + merge_range(missing[i]);
  }
  if (missing.size() > kMergeMissingText) text += ", ...";
  return text;
}

// What the report needs beyond the state: the missing seeds, counted and listed.
struct MergeMissing {
  std::uint64_t count = 0;
  std::vector<SeedRange> ranges;  // the first kMergeMissingJson
};

void print_merge_json(const MergeState& state, const MergeMissing& missing, std::size_t files) {
  const auto& h = state.header();
  nlohmann::json listed = nlohmann::json::array();
  for (const auto& r : missing.ranges) listed.push_back({{"first", r.first}, {"last", r.last}});
  // sweep --json's fields, then the merge's. elapsed_s is the seeds' run times summed, the sweep
  // on one core (hence jobs 1): the shards ran side by side and their wall times are not recorded.
  std::cout << nlohmann::json{{"system", h.system},
                              {"variant", h.variant},
                              {"seeds", {{"first", h.seeds.first}, {"last", h.seeds.last}}},
                              {"runs", state.runs()},
                              {"failing", failing_json(state.failures())},
                              {"events", state.events()},
                              {"elapsed_s", state.run_seconds()},
                              {"jobs", 1},
                              {"complete", missing.count == 0},
                              {"missing_count", missing.count},
                              {"missing", listed},
                              {"files", files},
                              {"seer_version", h.seer_version},
                              {"seer_commit", h.seer_commit}}
                   .dump()
            << '\n';
}

void print_merge_text(const MergeState& state, const MergeMissing& missing, std::size_t files) {
  const auto& h = state.header();
  const auto failures = state.failures();
  std::cout << fmt::format(
      "{}/{}: {} of seeds {}..{} from {} files ({:.2f}s of runs, {} events): "
      "{} failing\n",
      h.system, h.variant, state.runs(), h.seeds.first, h.seeds.last, files, state.run_seconds(),
      state.events(), failures.size());
  print_failures_text(std::cout, failures);
  if (!failures.empty()) {
    std::cout << "reproduce: " << failures.front().reproduce << " --trace t.jsonl\n";
  }
  if (missing.count) {
    std::cout << fmt::format("incomplete: {} of {} seeds missing: {}\n", missing.count,
                             h.seeds.last - h.seeds.first + 1, merge_missing_text(missing.ranges));
  }
}

}  // namespace

Command add_merge_command(CLI::App& root) {
  struct Options {
    std::vector<std::string> files;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* app = root.add_subcommand(
      "merge", "Combine the --out files of a sweep's shards into the sweep's report");
  app->add_option("files", o->files, "Sweep outputs (seer sweep ... --out FILE.jsonl)")->required();
  app->add_flag("--json", o->json, "Machine-readable output (sweep --json's fields and more)");
  return {app, [o] {
            MergeState state(o->files);
            state.read_all();
            MergeMissing missing;
            missing.ranges = state.missing(kMergeMissingJson, missing.count);
            if (o->json) {
              print_merge_json(state, missing, o->files.size());
            } else {
              print_merge_text(state, missing, o->files.size());
            }
            // A failing seed fails the sweep whatever the missing seeds hold; without one, an
            // incomplete sweep has not passed.
            if (state.has_failures()) return 1;
            if (missing.count) {
              const auto& seeds = state.header().seeds;
              std::cout << std::flush;
              throw UsageError(fmt::format(
                  "incomplete sweep: {} of the {} seeds of {}..{} are in no file (first: {}); "
                  "merge the missing shards' outputs too",
                  missing.count, seeds.last - seeds.first + 1, seeds.first, seeds.last,
                  merge_range(missing.ranges.front())));
            }
            return 0;
          }};
}

}  // namespace seer::cli
