// The fault schedule's JSON form. Message decisions are arrays ([from, to, index, ...]) because a
// recorded run has thousands of them; the rarer faults are objects.
#include "seer/sim/schedule.hpp"

#include "seer/json_input.hpp"

#include <stdexcept>
#include <type_traits>

namespace seer::sim {

std::size_t FaultSchedule::fault_count() const {
  return drops.size() + duplicates.size() + crashes.size() + pauses.size() + partitions.size() +
         clocks.size() + service_faults.size();
}

std::string FaultSchedule::summary() const {
  std::string out;
  auto add = [&](std::size_t n, const char* one, const char* many) {
    if (n == 0) return;
    out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + (n == 1 ? one : many);
  };
  add(drops.size(), "drop", "drops");
  add(duplicates.size(), "duplicate", "duplicates");
  add(crashes.size(), "crash", "crashes");
  add(pauses.size(), "pause", "pauses");
  add(partitions.size(), "partition", "partitions");
  add(clocks.size(), "clock skew", "clock skews");
  add(service_faults.size(), "service fault", "service faults");
  add(latencies.size(), "non-default latency", "non-default latencies");
  return out.empty() ? "no faults" : out;
}

nlohmann::json FaultSchedule::to_json() const {
  const auto array = [] { return nlohmann::json::array(); };
  nlohmann::json j = {{"default_latency_ns", default_latency}};
  j["latencies"] = array();
  for (const auto& m : latencies) j["latencies"].push_back({m.from, m.to, m.index, m.latency});
  j["drops"] = array();
  for (const auto& m : drops) j["drops"].push_back({m.from, m.to, m.index});
  j["duplicates"] = array();
  for (const auto& m : duplicates) j["duplicates"].push_back({m.from, m.to, m.index, m.latency});
  j["crashes"] = array();
  for (const auto& c : crashes) {
    nlohmann::json o = {{"process", c.process}, {"at", c.at}, {"down", c.down}};
    if (c.torn) {
      o["torn"] = true;
      o["torn_keep"] = c.torn_keep;
      o["torn_cut"] = c.torn_cut;
    }
    j["crashes"].push_back(std::move(o));
  }
  j["pauses"] = array();
  for (const auto& p : pauses) {
    nlohmann::json o = {{"process", p.process}, {"at", p.at}, {"length", p.length}};
    if (p.receive_first) o["receive_first"] = true;
    j["pauses"].push_back(std::move(o));
  }
  j["partitions"] = array();
  for (const auto& p : partitions) {
    j["partitions"].push_back(
        {{"at", p.at}, {"length", p.length}, {"group_a", p.group_a}, {"one_way", p.one_way}});
  }
  j["clocks"] = array();
  for (const auto& c : clocks) {
    j["clocks"].push_back(
        {{"process", c.process}, {"offset", c.offset}, {"drift_ppm", c.drift_ppm}});
  }
  j["service_faults"] = array();
  for (const auto& s : service_faults) {
    j["service_faults"].push_back({s.process, s.kind, s.occurrence});
  }
  return j;
}

namespace {

const nlohmann::json& list(const nlohmann::json& j, const char* name) {
  static const nlohmann::json empty = nlohmann::json::array();
  if (!j.contains(name)) return empty;
  const auto& v = j.at(name);
  if (!v.is_array()) {
    throw std::invalid_argument(std::string("schedule: ") + name + " is not a list");
  }
  return v;
}

// As j.get<T>(), but an integer must be one T can hold (no truncated floats, no wrapped
// negatives).
template <typename T>
T strict(const nlohmann::json& j) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    const auto v = json_integer<T>(j);
    if (!v) throw std::invalid_argument("not an integer in range");
    return *v;
  } else {
    return j.get<T>();
  }
}

template <typename T>
T field(const nlohmann::json& j, const char* list_name, std::size_t i, const char* name) {
  try {
    if (!j.contains(name)) throw std::invalid_argument("missing");
    return strict<T>(j.at(name));
  } catch (const std::exception&) {
    throw std::invalid_argument(std::string("schedule: ") + list_name + "[" + std::to_string(i) +
                                "]." + name + " is missing or has the wrong type");
  }
}

template <typename T>
T element(const nlohmann::json& tuple, const char* list_name, std::size_t i, std::size_t k,
          std::size_t arity) {
  try {
    if (!tuple.is_array() || tuple.size() != arity) throw std::invalid_argument("arity");
    return strict<T>(tuple.at(k));
  } catch (const std::exception&) {
    throw std::invalid_argument(std::string("schedule: ") + list_name + "[" + std::to_string(i) +
                                "] must be a list of " + std::to_string(arity) +
                                " values [from, to, index" + (arity == 4 ? ", ns]" : "]"));
  }
}

void require_non_negative(std::int64_t v, const char* what, std::size_t i) {
  if (v < 0) {
    throw std::invalid_argument(std::string("schedule: ") + what + "[" + std::to_string(i) +
                                "] has a negative time");
  }
  if (v > kMaxScheduleTime) {
    throw std::invalid_argument(std::string("schedule: ") + what + "[" + std::to_string(i) +
                                "] has a time past one day (" + std::to_string(kMaxScheduleTime) +
                                " ns)");
  }
}

// A latency: positive, at most a day.
void require_latency(Duration v, const std::string& what) {
  if (v <= 0 || v > kMaxScheduleTime) {
    throw std::invalid_argument("schedule: " + what + " must be from 1 to " +
                                std::to_string(kMaxScheduleTime) + " ns (one day)");
  }
}

// Per-message faults: latencies, drops and duplicates of the nth message between two processes.
void read_message_faults(const nlohmann::json& j, FaultSchedule& s) {
  const auto& lat = list(j, "latencies");
  for (std::size_t i = 0; i < lat.size(); ++i) {
    const auto& t = lat[i];
    s.latencies.push_back({element<std::string>(t, "latencies", i, 0, 4),
                           element<std::string>(t, "latencies", i, 1, 4),
                           element<std::uint64_t>(t, "latencies", i, 2, 4),
                           element<Duration>(t, "latencies", i, 3, 4)});
    require_latency(s.latencies.back().latency, "latencies[" + std::to_string(i) + "]'s latency");
  }
  const auto& drops = list(j, "drops");
  for (std::size_t i = 0; i < drops.size(); ++i) {
    const auto& t = drops[i];
    s.drops.push_back({element<std::string>(t, "drops", i, 0, 3),
                       element<std::string>(t, "drops", i, 1, 3),
                       element<std::uint64_t>(t, "drops", i, 2, 3)});
  }
  const auto& dups = list(j, "duplicates");
  for (std::size_t i = 0; i < dups.size(); ++i) {
    const auto& t = dups[i];
    s.duplicates.push_back({element<std::string>(t, "duplicates", i, 0, 4),
                            element<std::string>(t, "duplicates", i, 1, 4),
                            element<std::uint64_t>(t, "duplicates", i, 2, 4),
                            element<Duration>(t, "duplicates", i, 3, 4)});
    require_latency(s.duplicates.back().latency, "duplicates[" + std::to_string(i) + "]'s latency");
  }
}

void read_crashes(const nlohmann::json& j, FaultSchedule& s) {
  const auto& crashes = list(j, "crashes");
  for (std::size_t i = 0; i < crashes.size(); ++i) {
    const auto& o = crashes[i];
    CrashFault c;
    c.process = field<std::string>(o, "crashes", i, "process");
    c.at = field<Time>(o, "crashes", i, "at");
    c.down = field<Duration>(o, "crashes", i, "down");
    require_non_negative(c.at, "crashes", i);
    require_non_negative(c.down, "crashes", i);
    if (o.contains("torn")) {
      c.torn = field<bool>(o, "crashes", i, "torn");
      c.torn_keep = field<std::uint64_t>(o, "crashes", i, "torn_keep");
      c.torn_cut = field<std::uint64_t>(o, "crashes", i, "torn_cut");
    }
    s.crashes.push_back(std::move(c));
  }
}

void read_pauses(const nlohmann::json& j, FaultSchedule& s) {
  const auto& pauses = list(j, "pauses");
  for (std::size_t i = 0; i < pauses.size(); ++i) {
    const auto& o = pauses[i];
    s.pauses.push_back(
        {field<std::string>(o, "pauses", i, "process"), field<Time>(o, "pauses", i, "at"),
         field<Duration>(o, "pauses", i, "length"),
         o.contains("receive_first") && field<bool>(o, "pauses", i, "receive_first")});
    require_non_negative(s.pauses.back().at, "pauses", i);
    require_non_negative(s.pauses.back().length, "pauses", i);
  }
}

void read_partitions(const nlohmann::json& j, FaultSchedule& s) {
  const auto& parts = list(j, "partitions");
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& o = parts[i];
    s.partitions.push_back({field<Time>(o, "partitions", i, "at"),
                            field<Duration>(o, "partitions", i, "length"),
                            field<std::vector<std::string>>(o, "partitions", i, "group_a"),
                            field<bool>(o, "partitions", i, "one_way")});
    require_non_negative(s.partitions.back().at, "partitions", i);
    require_non_negative(s.partitions.back().length, "partitions", i);
  }
}

void read_clocks(const nlohmann::json& j, FaultSchedule& s) {
  const auto& clocks = list(j, "clocks");
  for (std::size_t i = 0; i < clocks.size(); ++i) {
    const auto& o = clocks[i];
    s.clocks.push_back({field<std::string>(o, "clocks", i, "process"),
                        field<Duration>(o, "clocks", i, "offset"),
                        field<std::int32_t>(o, "clocks", i, "drift_ppm")});
    if (s.clocks.back().offset < -kMaxScheduleTime || s.clocks.back().offset > kMaxScheduleTime) {
      throw std::invalid_argument("schedule: clocks[" + std::to_string(i) +
                                  "].offset must be within one day (" +
                                  std::to_string(kMaxScheduleTime) + " ns) either way");
    }
  }
}

void read_service_faults(const nlohmann::json& j, FaultSchedule& s) {
  const auto& service = list(j, "service_faults");
  for (std::size_t i = 0; i < service.size(); ++i) {
    const auto& t = service[i];
    try {
      if (!t.is_array() || t.size() != 3) throw std::invalid_argument("arity");
      s.service_faults.push_back(
          {t.at(0).get<std::string>(), t.at(1).get<std::string>(), strict<std::uint64_t>(t.at(2))});
    } catch (const std::exception&) {
      throw std::invalid_argument("schedule: service_faults[" + std::to_string(i) +
                                  "] must be a list [process, kind, occurrence]");
    }
  }
}

}  // namespace

FaultSchedule FaultSchedule::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("schedule: expected an object");
  FaultSchedule s;
  if (j.contains("default_latency_ns")) {
    const auto& v = j.at("default_latency_ns");
    const auto latency = json_integer<Duration>(v);
    require_latency(latency.value_or(0), "default_latency_ns");
    s.default_latency = *latency;
  }
  read_message_faults(j, s);
  read_crashes(j, s);
  read_pauses(j, s);
  read_partitions(j, s);
  read_clocks(j, s);
  read_service_faults(j, s);
  return s;
}

}  // namespace seer::sim
