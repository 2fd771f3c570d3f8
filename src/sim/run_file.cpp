#include "seer/sim/run_file.hpp"

#include "seer/json_input.hpp"
#include "seer/sim/trace.hpp"

#include <limits>
#include <stdexcept>
#include <type_traits>

namespace seer::sim {

nlohmann::json run_fields_json(const std::string& system, const std::string& variant,
                               const RunConfig& config) {
  nlohmann::json faults;
  if (config.faults) {
    faults = nlohmann::json::array();
    for (auto kind : *config.faults) {
      faults.push_back(FaultProfile::spec_of(kind, config.fault_levels));
    }
  } else {
    faults = "swarm";
  }
  nlohmann::json j = {{"system", system},  {"variant", variant}, {"seed", config.seed},
                      {"ops", config.ops}, {"faults", faults},   {"services", config.services}};
  if (config.clients > 0) j["clients"] = config.clients;
  if (!config.heal) j["heal"] = false;
  if (config.lenient_schedule) j["schedule_lenient"] = true;
  if (config.schedule) j["schedule"] = config.schedule->to_json();
  return j;
}

nlohmann::json run_file_json(const std::string& system, const std::string& variant,
                             const RunConfig& config, const RunResult& result) {
  nlohmann::json j = {
      {"seer_run", format_of_hash_function(config.hash_function, trace::kRunFormat)}};
  j.update(run_fields_json(system, variant, config));
  j["expect"] = {{"violation", result.violation ? result.violation->invariant : ""},
                 {"trace_hash", hash_hex(result.trace_hash)},
                 {"events", result.events}};
  return j;
}

namespace {

template <typename T>
T get(const nlohmann::json& j, const char* name) {
  if (!j.contains(name)) throw std::invalid_argument(std::string("missing field '") + name + "'");
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    // Strictly: nlohmann's get<T>() would make -1 a seed of 2^64-1 and 1e300 a seed of 0.
    const auto v = json_integer<T>(j.at(name));
    if (!v) {
      throw std::invalid_argument(std::string("field '") + name + "' must be an integer from " +
                                  std::to_string(std::numeric_limits<T>::min()) + " to " +
                                  std::to_string(std::numeric_limits<T>::max()));
    }
    return *v;
  }
  try {
    return j.at(name).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw std::invalid_argument(std::string("field '") + name + "' has the wrong type");
  }
}

}  // namespace

RunDescription parse_run_fields(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("expected a JSON object");
  RunDescription d;
  d.system = get<std::string>(j, "system");
  d.variant = get<std::string>(j, "variant");
  d.config.seed = get<std::uint64_t>(j, "seed");
  // The file's format names the function of the hashes it holds (a reader has refused newer ones).
  for (const char* version : {"seer_run", "seer_trace"}) {
    if (const auto v = j.find(version); v != j.end() && v->is_number_integer()) {
      d.config.hash_function = hash_function_of_format(v->get<int>());
    }
  }
  const auto ops = get<std::int64_t>(j, "ops");
  if (ops < 1 || ops > kMaxRunOps) {
    throw std::invalid_argument("field 'ops' must be from 1 to " + std::to_string(kMaxRunOps));
  }
  d.config.ops = static_cast<int>(ops);
  if (j.contains("clients")) {
    d.config.clients = get<int>(j, "clients");
    if (d.config.clients < 0) throw std::invalid_argument("field 'clients' must not be negative");
  }
  if (!j.contains("faults")) throw std::invalid_argument("missing field 'faults'");
  const auto& faults = j.at("faults");
  if (faults.is_string()) {
    if (faults.get<std::string>() != "swarm") {
      d.config.faults = FaultProfile::parse_list(faults.get<std::string>(), &d.config.fault_levels);
    }
  } else if (faults.is_array()) {
    std::vector<FaultKind> kinds;
    for (const auto& f : faults) {
      // A kind, or a kind with its pinned level ("clock:3").
      std::vector<FaultKind> one;
      try {
        if (f.is_string() && f.get<std::string>().find(',') == std::string::npos &&
            f.get<std::string>() != "none" && f.get<std::string>() != "all") {
          one = FaultProfile::parse_list(f.get<std::string>(), &d.config.fault_levels);
        }
      } catch (const std::invalid_argument&) {
      }
      if (one.size() != 1) {
        throw std::invalid_argument("field 'faults' lists an unknown fault kind");
      }
      kinds.push_back(one.front());
    }
    d.config.faults = std::move(kinds);
  } else {
    throw std::invalid_argument("field 'faults' must be \"swarm\" or a list of fault kinds");
  }
  if (j.contains("services")) {
    d.config.services = get<std::map<std::string, std::string>>(j, "services");
  }
  if (j.contains("heal")) d.config.heal = get<bool>(j, "heal");
  if (j.contains("schedule_lenient")) d.config.lenient_schedule = get<bool>(j, "schedule_lenient");
  if (j.contains("schedule")) {
    d.config.schedule = std::make_shared<FaultSchedule>(FaultSchedule::from_json(j.at("schedule")));
  }
  if (j.contains("expect")) {
    const auto& e = j.at("expect");
    if (!e.is_object()) throw std::invalid_argument("field 'expect' must be an object");
    d.expected_violation = get<std::string>(e, "violation");
    d.expected_trace_hash = get<std::string>(e, "trace_hash");
    d.expected_events = get<std::uint64_t>(e, "events");
  }
  return d;
}

}  // namespace seer::sim
