#include "sweep_search.hpp"

#include "sweep_report.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>

namespace seer::cli {

std::chrono::milliseconds parse_search_duration(const std::string& text) {
  const auto bad = [&](const std::string& why) {
    return UsageError("bad --for '" + text + "': " + why);
  };
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ptr == text.data()) throw bad("expected a number and a unit, e.g. 30s, 10m, 2h");
  const std::string unit(ptr, end);
  std::uint64_t ms_per = 0;
  if (unit == "ms") ms_per = 1;
  if (unit == "s") ms_per = 1000;
  if (unit == "m") ms_per = 60'000;
  if (unit == "h") ms_per = 3'600'000;
  if (ms_per == 0) throw bad("expected a unit: ms, s, m or h (e.g. 30s, 10m)");
  const auto max_ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(kMaxSearch).count());
  if (ec != std::errc() || value > max_ms / ms_per) {
    throw bad("at most " + std::to_string(kMaxSearch.count() / 24) + " days");
  }
  if (value == 0) throw bad("the search needs some time");
  return std::chrono::milliseconds(value * ms_per);
}

SearchRun search_run(const SearchPlan& plan, std::uint64_t index) {
  // A generator of its own per run, keyed by (stream, index) with an odd multiplier unrelated to
  // splitmix's increment, so consecutive runs' generators do not share state words.
  sim::Prng prng(plan.stream ^ (index * 0xD1B54A32D192ED03ULL));
  SearchRun run;
  run.index = index;
  run.seed = prng.next();
  run.variant = plan.variants[prng.below(plan.variants.size())];
  if (plan.faults != "swarm") {
    run.faults = plan.faults;
    return run;
  }
  // Each kind on with probability 1/2 at a level of 1 to 4, as the simulator's own swarm draws;
  // but drawn here, so the reproduce line names the profile.
  for (const auto kind : sim::kAllFaultKinds) {
    if (prng.chance(500'000)) {
      const auto level = prng.between(sim::FaultProfile::kMinLevel, sim::FaultProfile::kMaxLevel);
      run.faults += (run.faults.empty() ? "" : ",") + std::string(sim::fault_name(kind)) + ":" +
                    std::to_string(level);
    }
  }
  if (run.faults.empty()) run.faults = "none";
  return run;
}

std::uint64_t fresh_search_stream() {
  std::random_device device;
  return device();
}

namespace {

using Ordered = nlohmann::ordered_json;

// --out of a search: created new, one write(2) per line under a lock (see SweepOutput).
class SearchOutput {
 public:
  explicit SearchOutput(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0 && errno == EEXIST) {
      throw UsageError(path +
                       " exists: a search does not resume (a new stream is a new search); "
                       "use another --out");
    }
    if (fd_ < 0) throw UsageError("cannot write '" + path + "': " + std::strerror(errno));
  }
  ~SearchOutput() {
    if (fd_ >= 0) ::close(fd_);
  }
  SearchOutput(const SearchOutput&) = delete;
  SearchOutput& operator=(const SearchOutput&) = delete;

  void append(const std::string& line) {
    std::lock_guard lock(mutex_);
    for (std::size_t done = 0; done < line.size();) {
      const auto n = ::write(fd_, line.data() + done, line.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw UsageError("failed writing '" + path_ + "': " + std::strerror(errno));
      done += static_cast<std::size_t>(n);
    }
  }
  void close() {
    std::lock_guard lock(mutex_);
    const bool ok = (::fsync(fd_) == 0 || errno == EINVAL) && ::close(fd_) == 0;
    fd_ = -1;
    if (!ok) throw UsageError("failed writing '" + path_ + "': " + std::strerror(errno));
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::mutex mutex_;
};

std::string search_header_line(const SearchSetup& s) {
  const auto config = make_config(s.options, 0);
  Ordered services = Ordered::object();
  for (const auto& [name, impl] : config.services) services[name] = impl;
  Ordered j;
  j["seer_search"] = 1;
  j["seer_version"] = seer_version();
  j["seer_commit"] = seer_commit();
  j["system"] = s.system->info().name;
  j["variants"] = s.plan.variants;
  j["options"] = Ordered{{"ops", s.options.ops},
                         {"clients", s.options.clients},
                         {"faults", s.plan.faults},
                         {"services", services},
                         {"no_heal", s.options.no_heal}};
  j["stream"] = s.plan.stream;
  j["for_ms"] = s.budget.count();
  return stream_line(j);
}

std::string search_record_line(const SearchRun& run, const SweepRecord& r) {
  Ordered j;
  j["run"] = run.index;
  j["seed"] = r.seed;
  j["variant"] = run.variant;
  j["faults"] = run.faults;
  append_record_fields(j, r);
  return stream_line(j);
}

void draw_search_progress(double elapsed, double budget, std::uint64_t runs, std::size_t failing) {
  std::cerr << fmt::format("\r[search {:.0f}s of {:.0f}s] {} runs, {} failing", elapsed, budget,
                           runs, failing)
            << std::flush;
}

}  // namespace

SearchOutcome run_search(const SearchSetup& s) {
  std::unique_ptr<SearchOutput> out;
  if (!s.out.empty()) {
    out = std::make_unique<SearchOutput>(s.out);
    out->append(search_header_line(s));
  }
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + s.budget;
  const std::string system_name = s.system->info().name;
  std::atomic<std::uint64_t> next{0};
  std::atomic<std::uint64_t> events{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  SearchOutcome outcome;
  std::exception_ptr error;
  std::uint64_t error_index = 0;
  auto worker = [&] {
    // The deadline is checked before a run is claimed, so the runs done are 0 to N-1 of the
    // stream, whatever the threads: a search is its stream's first N runs.
    while (!stop.load() && std::chrono::steady_clock::now() < deadline) {
      const auto index = next.fetch_add(1);
      const auto run = search_run(s.plan, index);
      try {
        RunOptions options = s.options;
        options.faults = run.faults;
        const auto run_started = std::chrono::steady_clock::now();
        const auto result = sim::run_system(*s.system, run.variant, make_config(options, run.seed));
        const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - run_started;
        events += result.events;
        if (out || !result.ok()) {
          auto record = sweep_record(
              result, wall.count(), reproduce_command(options, system_name, run.variant, run.seed));
          if (out) out->append(search_record_line(run, record));
          if (!record.ok) {
            std::lock_guard lock(mutex);
            outcome.failures.push_back({run, std::move(record)});
          }
        }
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!error || index < error_index) {
          error = std::current_exception();
          error_index = index;
        }
        stop.store(true);
      }
    }
  };
  std::vector<std::thread> threads;
  for (unsigned j = 1; j < s.jobs; ++j) threads.emplace_back(worker);
  std::atomic<bool> finished{false};
  std::thread painter;
  const double budget_s = std::chrono::duration<double>(s.budget).count();
  const auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  if (s.progress) {
    painter = std::thread([&] {
      while (!finished.load()) {
        {
          std::lock_guard lock(mutex);
          draw_search_progress(std::min(elapsed(), budget_s), budget_s, next.load(),
                               outcome.failures.size());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    });
  }
  worker();
  for (auto& t : threads) t.join();
  if (s.progress) {
    finished.store(true);
    painter.join();
    draw_search_progress(budget_s, budget_s, next.load(), outcome.failures.size());
    std::cerr << '\n';
  }
  if (error) std::rethrow_exception(error);
  if (out) out->close();
  outcome.runs = next.load();  // every run claimed was run
  outcome.elapsed_s = elapsed();
  outcome.events = events.load();
  std::sort(
      outcome.failures.begin(), outcome.failures.end(),
      [](const SearchFailure& a, const SearchFailure& b) { return a.run.index < b.run.index; });
  return outcome;
}

namespace {

std::string search_name(const SearchSetup& s) {
  const std::string system = s.system->info().name;
  if (s.plan.variants.size() == 1) return system + "/" + s.plan.variants.front();
  std::string list;
  for (const auto& v : s.plan.variants) list += (list.empty() ? "" : ",") + v;
  return system + "/{" + list + "}";
}

}  // namespace

void print_search_text(const SearchSetup& s, const SearchOutcome& o) {
  std::cout << fmt::format(
      "{}: searched {:.2f}s, stream {} (--seed-stream {} repeats it), faults {}: {} runs ({} "
      "jobs): {} failing\n",
      search_name(s), o.elapsed_s, s.plan.stream, s.plan.stream,
      s.plan.faults == "swarm" ? "drawn per run" : s.plan.faults, o.runs, s.jobs,
      o.failures.size());
  const std::size_t shown = std::min<std::size_t>(o.failures.size(), 10);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto& [run, r] = o.failures[i];
    std::cout << fmt::format("  run {}: seed {} --variant {} --faults {}: {}{}: {}\n", run.index,
                             run.seed, run.variant, run.faults, r.invariant,
                             r.liveness ? " (liveness)" : "", r.message);
  }
  if (o.failures.size() > shown) {
    std::cout << fmt::format("  ... and {} more (use --json for all)\n", o.failures.size() - shown);
  }
  if (!o.failures.empty()) {
    std::cout << "reproduce: " << o.failures.front().record.reproduce << " --trace t.jsonl\n";
  }
}

void print_search_json(const SearchSetup& s, const SearchOutcome& o) {
  nlohmann::json failing = nlohmann::json::array();
  for (const auto& [run, r] : o.failures) {
    failing.push_back({{"run", run.index},
                       {"seed", run.seed},
                       {"variant", run.variant},
                       {"faults", run.faults},
                       {"invariant", r.invariant},
                       {"kind", r.liveness ? "liveness" : "safety"},
                       {"message", r.message},
                       {"reproduce", r.reproduce}});
  }
  nlohmann::json j{{"system", s.system->info().name},
                   {"variants", s.plan.variants},
                   {"search",
                    {{"stream", s.plan.stream},
                     {"for_s", std::chrono::duration<double>(s.budget).count()},
                     {"faults", s.plan.faults}}},
                   {"runs", o.runs},
                   {"failing", failing},
                   {"events", o.events},
                   {"elapsed_s", o.elapsed_s},
                   {"jobs", s.jobs}};
  if (s.plan.variants.size() == 1) j["variant"] = s.plan.variants.front();
  if (!s.out.empty()) j["out"] = {{"path", s.out}};
  std::cout << j.dump() << '\n';
}

}  // namespace seer::cli
