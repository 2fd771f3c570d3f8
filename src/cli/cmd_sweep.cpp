// `seer sweep SYSTEM --seeds A..B`: many seeds on all cores, a progress bar, and the failing seeds.
// Each worker thread owns whole runs; a run never shares state with another, so results do not
// depend on the number of jobs or on thread timing.
#include "run_options.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <iostream>
#include <mutex>
#include <thread>

namespace seer::cli {

namespace {

struct SweepCommand {
  RunOptions options;
  std::string seeds = "1..1000";
  unsigned jobs = 0;
};

struct Failure {
  std::uint64_t seed;
  std::string invariant;
  std::string message;
  bool liveness = false;
};

void draw_progress(std::uint64_t done, std::uint64_t total, std::size_t failing) {
  const int width = 30;
  const auto filled = static_cast<int>(total ? done * width / total : width);
  std::cerr << fmt::format("\r[{}{}] {}/{} seeds, {} failing", std::string(filled, '#'),
                           std::string(width - filled, '.'), done, total, failing)
            << std::flush;
}

// What a sweep found: its failing seeds (in seed order), how many events it simulated and how long
// it took.
struct SweepOutcome {
  std::vector<Failure> failures;
  std::uint64_t events = 0;
  double elapsed_s = 0;
};

// Runs every seed of `range` on `jobs` threads, drawing a progress bar if asked. An exception in a
// run must not escape its thread: the first (by seed) is kept, the remaining seeds are skipped, and
// it is rethrown once the threads are joined.
SweepOutcome run_sweep(const sim::System& system, const std::string& variant,
                       const RunOptions& options, const SeedRange& range, unsigned jobs,
                       bool progress) {
  const std::uint64_t total = range.last - range.first + 1;
  std::atomic<std::uint64_t> next{0};
  std::atomic<std::uint64_t> done{0};
  std::atomic<std::uint64_t> events{0};
  std::mutex mutex;
  SweepOutcome outcome;
  const auto started = std::chrono::steady_clock::now();
  std::exception_ptr error;
  std::uint64_t error_seed = 0;
  auto worker = [&] {
    for (std::uint64_t i; (i = next.fetch_add(1)) < total; done.fetch_add(1)) {
      const auto seed = range.first + i;
      try {
        const auto result = sim::run_system(system, variant, make_config(options, seed));
        events += result.events;
        if (result.violation) {
          std::lock_guard lock(mutex);
          outcome.failures.push_back({seed, result.violation->invariant, result.violation->message,
                                      result.violation->liveness});
        }
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!error || seed < error_seed) {
          error = std::current_exception();
          error_seed = seed;
        }
        next.store(total);
      }
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
  std::sort(outcome.failures.begin(), outcome.failures.end(),
            [](const Failure& a, const Failure& b) { return a.seed < b.seed; });
  return outcome;
}

void print_sweep_json(const std::string& system, const std::string& variant, const SeedRange& range,
                      unsigned jobs, const SweepOutcome& outcome) {
  nlohmann::json failing = nlohmann::json::array();
  for (const auto& f : outcome.failures) {
    failing.push_back({{"seed", f.seed},
                       {"invariant", f.invariant},
                       {"kind", f.liveness ? "liveness" : "safety"},
                       {"message", f.message}});
  }
  std::cout << nlohmann::json{{"system", system},
                              {"variant", variant},
                              {"seeds", {{"first", range.first}, {"last", range.last}}},
                              {"runs", range.last - range.first + 1},
                              {"failing", failing},
                              {"events", outcome.events},
                              {"elapsed_s", outcome.elapsed_s},
                              {"jobs", jobs}}
                   .dump()
            << '\n';
}

void print_sweep_text(const RunOptions& options, const std::string& system,
                      const std::string& variant, const SeedRange& range, unsigned jobs,
                      const SweepOutcome& outcome) {
  const auto& failures = outcome.failures;
  std::cout << fmt::format("{}/{}: {} seeds in {:.2f}s ({} jobs): {} failing\n", system, variant,
                           range.last - range.first + 1, outcome.elapsed_s, jobs, failures.size());
  const std::size_t shown = std::min<std::size_t>(failures.size(), 10);
  for (std::size_t i = 0; i < shown; ++i) {
    std::cout << fmt::format("  seed {}: {}{}: {}\n", failures[i].seed, failures[i].invariant,
                             failures[i].liveness ? " (liveness)" : "", failures[i].message);
  }
  if (failures.size() > shown) {
    std::cout << fmt::format("  ... and {} more (use --json for all)\n", failures.size() - shown);
  }
  if (!failures.empty()) {
    std::cout << "reproduce: " << reproduce_command(options, system, variant, failures.front().seed)
              << " --trace t.jsonl\n";
  }
}

}  // namespace

Command add_sweep_command(CLI::App& root) {
  auto cmd = std::make_shared<SweepCommand>();
  auto* app = root.add_subcommand("sweep", "Simulate a range of seeds and report the failing ones");
  add_run_options(*app, cmd->options);
  app->add_option("--seeds", cmd->seeds, "Seed range A..B (inclusive), default 1..1000");
  app->add_option("--jobs", cmd->jobs, "Worker threads (default: all cores)");
  return {app, [cmd] {
            std::string variant;
            const auto& system = resolve_system(cmd->options, variant);
            const auto range = parse_seed_range(cmd->seeds);
            make_config(cmd->options, range.first);  // validates --faults before starting
            const std::uint64_t total = range.last - range.first + 1;
            unsigned jobs =
                cmd->jobs ? cmd->jobs : std::max(1u, std::thread::hardware_concurrency());
            if (jobs > total) jobs = static_cast<unsigned>(total);
            const bool progress = !cmd->options.json && isatty(STDERR_FILENO);
            const auto outcome = run_sweep(system, variant, cmd->options, range, jobs, progress);
            const std::string name = system.info().name;
            if (cmd->options.json) {
              print_sweep_json(name, variant, range, jobs, outcome);
            } else {
              print_sweep_text(cmd->options, name, variant, range, jobs, outcome);
            }
            return outcome.failures.empty() ? 0 : 1;
          }};
}

}  // namespace seer::cli
