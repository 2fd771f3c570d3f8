// `seer sweep SYSTEM --seeds A..B`: many seeds on all cores, a progress bar, and the failing seeds.
// Each worker thread owns whole runs; a run never shares state with another, so results do not
// depend on the number of jobs or on thread timing. `--shard I/N` runs one machine's part of the
// range (shard.hpp) and `--out FILE.jsonl` streams one line per seed to a file that a re-run
// resumes and `seer merge` combines (sweep_file.hpp, docs/scale-out.md). `--for DURATION` searches
// a seeded stream of runs for that long instead of a range (sweep_search.hpp).
#include "run_options.hpp"
#include "seer/json_release.hpp"
#include "shard.hpp"
#include "sweep_file.hpp"
#include "sweep_report.hpp"
#include "sweep_search.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

namespace seer::cli {

namespace {

struct SweepCommand {
  RunOptions options;
  std::string seeds = "1..1000";
  unsigned jobs = 0;
  std::string shard;  // --shard I/N (CLI::App::count says whether it was given)
  std::string out;
  std::string duration;      // --for
  std::uint64_t stream = 0;  // --seed-stream (CLI::App::count says whether it was given)
  bool any_variant = false;
};

void draw_progress(std::uint64_t done, std::uint64_t total, std::size_t failing) {
  const int width = 30;
  const auto filled = static_cast<int>(total ? done * width / total : width);
  std::cerr << fmt::format("\r[{}{}] {}/{} seeds, {} failing", std::string(filled, '#'),
                           std::string(width - filled, '.'), done, total, failing)
            << std::flush;
}

// The seeds one invocation covers: the shard's block of the range (all of it unsharded, nothing
// for an empty shard) less those an --out file already records.
struct SweepPlan {
  std::optional<SeedRange> block;
  std::vector<bool> recorded;  // by seed - block->first; empty when nothing was recorded
  std::uint64_t recorded_count = 0;

  std::uint64_t size() const { return block ? block->last - block->first + 1 : 0; }
};

// What a sweep found: its failing seeds (in seed order), how many events it simulated and how long
// it took.
struct SweepOutcome {
  std::vector<SweepRecord> failures;
  std::uint64_t events = 0;
  double elapsed_s = 0;
};

// Runs every seed of the plan not yet recorded on `jobs` threads, appending each result to `out`
// (if any) as it finishes, drawing a progress bar if asked. An exception in a run (or a failed
// write) must not escape its thread: the first (by seed) is kept, the remaining seeds are skipped,
// and it is rethrown once the threads are joined.
SweepOutcome run_sweep(const sim::System& system, const std::string& variant,
                       const RunOptions& options, const SweepPlan& plan, unsigned jobs,
                       bool progress, SweepOutput* out) {
  const std::uint64_t size = plan.size();
  const std::uint64_t total = size - plan.recorded_count;
  std::atomic<std::uint64_t> next{0};
  std::atomic<std::uint64_t> done{0};
  std::atomic<std::uint64_t> events{0};
  std::mutex mutex;
  SweepOutcome outcome;
  const auto started = std::chrono::steady_clock::now();
  std::exception_ptr error;
  std::uint64_t error_seed = 0;
  auto worker = [&] {
    for (std::uint64_t i; (i = next.fetch_add(1)) < size;) {
      if (!plan.recorded.empty() && plan.recorded[i]) continue;
      const auto seed = plan.block->first + i;
      try {
        const auto run_started = std::chrono::steady_clock::now();
        auto result = sim::run_system(system, variant, make_config(options, seed));
        const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - run_started;
        events += result.events;
        if (out || !result.ok()) {
          auto record = sweep_record(result, wall.count(),
                                     reproduce_command(options, system.info().name, variant, seed));
          if (out) out->append(sweep_record_line(record));
          if (!record.ok) {
            std::lock_guard lock(mutex);
            outcome.failures.push_back(std::move(record));
          }
        }
        // Freed depth first (json_release.hpp): the destructor's own way cost ~3 % of a sweep.
        for (auto& entry : result.history) release_json(entry.value);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!error || seed < error_seed) {
          error = std::current_exception();
          error_seed = seed;
        }
        next.store(size);
      }
      done.fetch_add(1);
    }
  };
  std::vector<std::thread> threads;
  for (unsigned j = 1; j < jobs; ++j) threads.emplace_back(worker);
  std::atomic<bool> finished{false};
  std::thread painter;
  if (progress) {
    painter = std::thread([&] {
      while (!finished.load()) {
        {
          std::lock_guard lock(mutex);
          draw_progress(done.load(), total, outcome.failures.size());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    });
  }
  worker();
  for (auto& t : threads) t.join();
  if (progress) {
    finished.store(true);
    painter.join();
    draw_progress(total, total, outcome.failures.size());
    std::cerr << '\n';
  }
  if (error) std::rethrow_exception(error);
  outcome.elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  outcome.events = events.load();
  return outcome;
}

// What the sweep's --out file already held: its seeds, failures and events.
struct SweepResumed {
  SweepPlan plan;
  std::vector<SweepRecord> failures;
  std::uint64_t events = 0;
};

// Opens --out (creating or resuming it) and collects what it records into `resumed`.
std::unique_ptr<SweepOutput> open_sweep_output(const std::string& path, const SweepHeader& header,
                                               SweepResumed& resumed) {
  auto& plan = resumed.plan;
  return std::make_unique<SweepOutput>(path, header, [&](const SweepRecord& r, std::uint64_t) {
    // read_sweep_file checked the seed is in the block. A seed recorded twice counts once.
    const auto i = r.seed - plan.block->first;
    if (plan.recorded.empty()) plan.recorded.assign(plan.size(), false);
    if (plan.recorded[i]) return;
    plan.recorded[i] = true;
    ++plan.recorded_count;
    resumed.events += r.events;
    if (!r.ok) resumed.failures.push_back(r);
  });
}

std::string shard_text(const Shard& shard) {
  return std::to_string(shard.index) + "/" + std::to_string(shard.count);
}

struct SweepReportInput {
  std::string system;
  std::string variant;
  SeedRange range;
  Shard shard;
  const SweepResumed* resumed;
  std::string out;
  unsigned jobs = 1;
};

void print_sweep_json(const SweepReportInput& in, const SweepOutcome& outcome) {
  nlohmann::json j{{"system", in.system},
                   {"variant", in.variant},
                   {"seeds", {{"first", in.range.first}, {"last", in.range.last}}},
                   {"runs", in.resumed->plan.size()},
                   {"failing", failing_json(outcome.failures)},
                   {"events", outcome.events},
                   {"elapsed_s", outcome.elapsed_s},
                   {"jobs", in.jobs}};
  if (!in.shard.source.empty()) {
    j["shard"] = {{"index", in.shard.index}, {"count", in.shard.count}, {"from", in.shard.source}};
    if (const auto& block = in.resumed->plan.block) {
      j["shard"]["first"] = block->first;
      j["shard"]["last"] = block->last;
    }
  }
  if (!in.out.empty()) {
    j["out"] = {{"path", in.out}, {"resumed", in.resumed->plan.recorded_count}};
  }
  std::cout << j.dump() << '\n';
}

void print_sweep_text(const SweepReportInput& in, const SweepOutcome& outcome) {
  const auto& failures = outcome.failures;
  std::string name = in.system + "/" + in.variant;
  if (!in.shard.source.empty()) {
    name += ", shard " + shard_text(in.shard) +
            (in.shard.source == "--shard" ? "" : " (" + in.shard.source + ")") +
            fmt::format(" of seeds {}..{}", in.range.first, in.range.last);
  }
  const auto& plan = in.resumed->plan;
  if (plan.recorded_count == 0) {
    std::cout << fmt::format("{}: {} seeds in {:.2f}s ({} jobs): {} failing\n", name, plan.size(),
                             outcome.elapsed_s, in.jobs, failures.size());
  } else {
    std::cout << fmt::format("{}: {} seeds ({} from {}, {} run in {:.2f}s, {} jobs): {} failing\n",
                             name, plan.size(), plan.recorded_count, in.out,
                             plan.size() - plan.recorded_count, outcome.elapsed_s, in.jobs,
                             failures.size());
  }
  print_failures_text(std::cout, failures);
  if (!failures.empty()) {
    std::cout << "reproduce: " << failures.front().reproduce << " --trace t.jsonl\n";
  }
}

// The variants a search draws from: --any-variant's all, --variant's comma list, or the default.
std::vector<std::string> search_variants(const SweepCommand& cmd, const sim::System& system) {
  if (cmd.any_variant) return system.info().variants;
  std::vector<std::string> variants;
  std::string variant;
  for (std::size_t start = 0; start <= cmd.options.variant.size();) {
    const auto comma = std::min(cmd.options.variant.find(',', start), cmd.options.variant.size());
    RunOptions one = cmd.options;
    one.variant = cmd.options.variant.substr(start, comma - start);
    if (one.variant.empty() && !cmd.options.variant.empty()) {
      throw UsageError("bad --variant '" + cmd.options.variant + "': an empty name in the list");
    }
    resolve_system(one, variant);  // validates the name
    if (std::find(variants.begin(), variants.end(), variant) == variants.end()) {
      variants.push_back(variant);
    }
    start = comma + 1;
  }
  return variants;
}

int run_search_command(const SweepCommand& cmd, const CLI::App& app) {
  SearchSetup setup;
  setup.budget = parse_search_duration(cmd.duration);
  RunOptions first = cmd.options;
  first.variant.clear();
  std::string variant;
  setup.system = &resolve_system(first, variant);
  setup.options = cmd.options;
  setup.plan.variants = search_variants(cmd, *setup.system);
  setup.plan.faults = cmd.options.faults;
  make_config(cmd.options, 0);  // validates --faults and --service before starting
  setup.plan.stream = app.count("--seed-stream") ? cmd.stream : fresh_search_stream();
  setup.jobs = cmd.jobs ? cmd.jobs : std::max(1u, std::thread::hardware_concurrency());
  setup.progress = !cmd.options.json && isatty(STDERR_FILENO);
  setup.out = cmd.out;
  const auto outcome = run_search(setup);
  if (cmd.options.json) {
    print_search_json(setup, outcome);
  } else {
    print_search_text(setup, outcome);
  }
  return outcome.failures.empty() ? 0 : 1;
}

}  // namespace

Command add_sweep_command(CLI::App& root) {
  auto cmd = std::make_shared<SweepCommand>();
  auto* app = root.add_subcommand("sweep", "Simulate a range of seeds and report the failing ones");
  add_run_options(*app, cmd->options);
  app->add_option("--seeds", cmd->seeds, "Seed range A..B (inclusive), default 1..1000");
  app->add_option("--jobs", cmd->jobs, "Worker threads (default: all cores)");
  app->add_option("--shard", cmd->shard,
                  "Run shard I of N of the range (I from 0), e.g. 0/4; default from "
                  "JOB_COMPLETION_INDEX and SEER_SHARD_COUNT, or SLURM_ARRAY_TASK_ID and "
                  "SLURM_ARRAY_TASK_COUNT, when set");
  app->add_option("--out", cmd->out,
                  "Append one JSON line per seed to this file as it runs; a re-run with the same "
                  "file resumes (docs/scale-out.md)");
  auto* duration = app->add_option(
      "--for", cmd->duration,
      "Search for this long instead of a seed range (e.g. 30s, 10m, 2h): runs drawn from a seeded "
      "stream, each with its own seed and fault profile (unless --faults pins one)");
  app->add_option("--seed-stream", cmd->stream,
                  "With --for: the stream to draw runs from (default: a fresh one, printed, so a "
                  "search can be repeated)")
      ->needs(duration);
  app->add_flag("--any-variant", cmd->any_variant,
                "With --for: draw each run's variant from all of the system's (--variant a,b: from "
                "those)")
      ->needs(duration)
      ->excludes(app->get_option("--variant"));
  duration->excludes(app->get_option("--seeds"))->excludes(app->get_option("--shard"));
  return {app, [cmd, app] {
            if (app->count("--for")) return run_search_command(*cmd, *app);
            std::string variant;
            const auto& system = resolve_system(cmd->options, variant);
            const auto range = parse_seed_range(cmd->seeds);
            make_config(cmd->options, range.first);  // validates --faults before starting
            const auto shard =
                choose_shard(app->count("--shard") ? std::optional(cmd->shard) : std::nullopt,
                             [](const char* name) { return std::getenv(name); });
            const std::string name = system.info().name;
            SweepResumed resumed;
            resumed.plan.block = shard_seeds(range, shard);
            std::unique_ptr<SweepOutput> out;
            if (!cmd->out.empty()) {
              out = open_sweep_output(
                  cmd->out, sweep_header(cmd->options, name, variant, range, shard), resumed);
            }
            const std::uint64_t remaining = resumed.plan.size() - resumed.plan.recorded_count;
            unsigned jobs =
                cmd->jobs ? cmd->jobs : std::max(1u, std::thread::hardware_concurrency());
            if (jobs > remaining) {
              jobs = static_cast<unsigned>(std::max<std::uint64_t>(remaining, 1));
            }
            const bool progress = !cmd->options.json && isatty(STDERR_FILENO);
            auto outcome =
                run_sweep(system, variant, cmd->options, resumed.plan, jobs, progress, out.get());
            if (out) out->close();
            outcome.events += resumed.events;
            outcome.failures.insert(outcome.failures.end(), resumed.failures.begin(),
                                    resumed.failures.end());
            std::sort(outcome.failures.begin(), outcome.failures.end(),
                      [](const SweepRecord& a, const SweepRecord& b) { return a.seed < b.seed; });
            const SweepReportInput report{name, variant, range, shard, &resumed, cmd->out, jobs};
            if (cmd->options.json) {
              print_sweep_json(report, outcome);
            } else {
              print_sweep_text(report, outcome);
            }
            return outcome.failures.empty() ? 0 : 1;
          }};
}

}  // namespace seer::cli
