#include "run_options.hpp"
#include "app.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>

namespace seer::cli {

void add_run_options(CLI::App& app, RunOptions& o) {
  app.add_option("system", o.system, "System to simulate (see `seer list`)")->required();
  app.add_option("--variant", o.variant, "Variant of the system (default: its first)");
  app.add_option("--ops", o.ops, "Client operations per run")->check(CLI::Range(1, 1'000'000));
  app.add_option("--clients", o.clients,
                 "Concurrent clients (consumers, writers), if fewer than the system's default")
      ->check(CLI::Range(1, 1'000'000));
  app.add_option(
      "--faults", o.faults,
      "Fault profile: swarm (default: each seed draws its own), none, all, or a comma "
      "list of: delay,reorder,drop,duplicate,partition,crash,pause,clock,torn,lost-response; "
      "KIND:LEVEL pins a kind's intensity, 1 to 4 (default 2), e.g. clock:3");
  app.add_option("--service", o.services,
                 "Swap a simulated service's implementation, NAME=IMPL (e.g. kv=stale); "
                 "`seer list` shows each system's services")
      ->take_all();
  app.add_flag("--no-heal", o.no_heal,
               "End the run with its clients: no heal phase, liveness properties unchecked");
  app.add_flag("--json", o.json, "Machine-readable output");
}

namespace {

std::pair<std::string, std::string> split_service(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    throw UsageError("bad --service '" + text + "': expected NAME=IMPL, e.g. kv=stale");
  }
  return {text.substr(0, eq), text.substr(eq + 1)};
}

}  // namespace

const sim::System& resolve_system(const RunOptions& o, std::string& variant) {
  const auto* system = sim::SystemRegistry::instance().find(o.system);
  if (!system) {
    std::string known;
    for (const auto* s : sim::SystemRegistry::instance().all()) {
      known += (known.empty() ? "" : ", ") + s->info().name;
    }
    throw UsageError("unknown system '" + o.system + "' (known: " + known + ")");
  }
  const auto info = system->info();
  variant = o.variant.empty() ? info.variants.front() : o.variant;
  bool found = false;
  std::string variants;
  for (const auto& v : info.variants) {
    found = found || v == variant;
    variants += (variants.empty() ? "" : ", ") + v;
  }
  if (!found) {
    throw UsageError("unknown variant '" + variant + "' of " + info.name + " (known: " + variants +
                     ")");
  }
  for (const auto& text : o.services) {
    // Not a structured binding: clang 14 cannot capture one in the lambda below.
    const auto service = split_service(text);
    const auto& name = service.first;
    const auto& impl = service.second;
    const auto it = std::find_if(info.services.begin(), info.services.end(),
                                 [&](const sim::ServiceInfo& s) { return s.name == name; });
    if (it == info.services.end()) {
      std::string names;
      for (const auto& s : info.services) names += (names.empty() ? "" : ", ") + s.name;
      throw UsageError(info.name + " uses no service '" + name +
                       "' (it uses: " + (names.empty() ? "none" : names) + ")");
    }
    if (std::find(it->implementations.begin(), it->implementations.end(), impl) ==
        it->implementations.end()) {
      std::string impls;
      for (const auto& i : it->implementations) impls += (impls.empty() ? "" : ", ") + i;
      throw UsageError("unknown implementation '" + impl + "' of service " + name +
                       " (known: " + impls + ")");
    }
  }
  return *system;
}

sim::RunConfig make_config(const RunOptions& o, std::uint64_t seed) {
  sim::RunConfig config;
  config.seed = seed;
  config.ops = o.ops;
  config.clients = o.clients;
  config.heal = !o.no_heal;
  for (const auto& text : o.services)
    config.services[split_service(text).first] = split_service(text).second;
  if (o.faults != "swarm") {
    try {
      config.faults = sim::FaultProfile::parse_list(o.faults, &config.fault_levels);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }
  return config;
}

std::uint64_t parse_seed(const std::string& text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    throw UsageError("bad seed '" + text + "': expected a non-negative integer");
  }
  return value;
}

SeedRange parse_seed_range(const std::string& text) {
  const auto dots = text.find("..");
  if (dots == std::string::npos) {
    throw UsageError("bad seed range '" + text + "': expected A..B, e.g. 1..1000");
  }
  SeedRange range{parse_seed(text.substr(0, dots)), parse_seed(text.substr(dots + 2))};
  if (range.first > range.last) {
    throw UsageError("bad seed range '" + text + "': the first seed is after the last");
  }
  // Bounded so the count (last - first + 1) cannot overflow and a sweep cannot run for ever.
  if (range.last - range.first >= kMaxSweepSeeds) {
    throw UsageError("bad seed range '" + text + "': at most " + std::to_string(kMaxSweepSeeds) +
                     " seeds per sweep");
  }
  return range;
}

std::string reproduce_command(const RunOptions& o, const std::string& system,
                              const std::string& variant, std::uint64_t seed) {
  std::string line = program_name() + " run " + system + " --variant " + variant + " --seed " +
                     std::to_string(seed);
  if (o.ops != RunOptions{}.ops) line += " --ops " + std::to_string(o.ops);
  if (o.clients != 0) line += " --clients " + std::to_string(o.clients);
  if (o.faults != RunOptions{}.faults) line += " --faults " + o.faults;
  for (const auto& s : o.services) line += " --service " + s;
  if (o.no_heal) line += " --no-heal";
  return line;
}

nlohmann::json run_result_json(const sim::System& system, const std::string& variant,
                               const sim::RunResult& r) {
  return {{"system", system.info().name},
          {"variant", variant},
          {"seed", r.seed},
          {"ok", r.ok()},
          {"violation", sim::violation_json(r)},
          {"stalled", r.stalled},
          {"events", r.events},
          {"delivered", r.delivered},
          {"end_time_ns", r.end_time},
          {"healed_at_ns", r.healed_at ? nlohmann::json(*r.healed_at) : nlohmann::json()},
          {"operations", r.history.size()},
          {"trace_hash", sim::hash_hex(r.trace_hash)},
          {"profile", r.profile.to_json()}};
}

void check_writable(const std::string& path) {
  std::ofstream out(path, std::ios::app);
  if (!out) throw UsageError("cannot write '" + path + "'");
}

void write_trace_file(const std::string& path, const nlohmann::json& header,
                      const sim::RunResult& result) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) throw UsageError("cannot write trace '" + path + "'");
  sim::write_trace(out, header, result);
  if (!out) throw UsageError("failed writing trace '" + path + "'");
}

}  // namespace seer::cli
