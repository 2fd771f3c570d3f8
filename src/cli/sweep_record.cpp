#include "sweep_record.hpp"

#include "seer/json_input.hpp"
#include "seer/trace/vocabulary.hpp"

#include <cmath>
#include <stdexcept>

#ifndef SEER_VERSION
#define SEER_VERSION "unknown"
#endif

namespace seer::cli {

const char* seer_version() {
  return SEER_VERSION;
}

namespace {

using Ordered = nlohmann::ordered_json;

// The object's member `key`, which must be there.
const nlohmann::json& record_field(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) throw std::invalid_argument(std::string("no \"") + key + "\"");
  return *it;
}

std::string record_string(const nlohmann::json& j, const char* key) {
  const auto& v = record_field(j, key);
  if (!v.is_string()) throw std::invalid_argument(std::string("\"") + key + "\" is not a string");
  return v.get<std::string>();
}

template <typename T>
T record_integer(const nlohmann::json& j, const char* key, T least) {
  const auto v = json_integer<T>(record_field(j, key));
  if (!v || *v < least) {
    throw std::invalid_argument(std::string("\"") + key + "\" is not an integer from " +
                                std::to_string(least));
  }
  return *v;
}

bool record_bool(const nlohmann::json& j, const char* key) {
  const auto& v = record_field(j, key);
  if (!v.is_boolean()) throw std::invalid_argument(std::string("\"") + key + "\" is not a boolean");
  return v.get<bool>();
}

const nlohmann::json& record_object(const nlohmann::json& j, const char* key) {
  const auto& v = record_field(j, key);
  if (!v.is_object()) throw std::invalid_argument(std::string("\"") + key + "\" is not an object");
  return v;
}

nlohmann::json record_parse(std::string_view line) {
  nlohmann::json j = parse_json_bounded_or_discarded(line);
  if (j.is_discarded()) throw std::invalid_argument("not JSON");
  if (!j.is_object()) throw std::invalid_argument("not a JSON object");
  return j;
}

// A string from a file for a one-line error message: cut if long (messages can be), and
// JSON-escaped if it holds a control character (a newline would split the error line).
std::string record_printable(const std::string& s, bool quoted = false) {
  constexpr std::size_t kMax = 60;
  const std::string cut = s.size() > kMax ? s.substr(0, kMax) + "..." : s;
  bool control = false;
  for (const unsigned char c : cut) control = control || c < 0x20 || c == 0x7f;
  if (!control) return quoted ? "\"" + cut + "\"" : cut;
  return nlohmann::json(cut).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string record_quote(const std::string& s) {
  return record_printable(s, true);
}

std::string record_services(const std::map<std::string, std::string>& services) {
  std::string text;
  for (const auto& [name, impl] : services) text += (text.empty() ? "" : ",") + name + "=" + impl;
  return text.empty() ? "none" : text;
}

}  // namespace

SweepHeader sweep_header(const RunOptions& options, const std::string& system,
                         const std::string& variant, const SeedRange& seeds, const Shard& shard) {
  const auto config = make_config(options, seeds.first);
  SweepHeader h;
  h.seer_version = seer_version();
  h.seer_commit = seer_commit();
  h.system = system;
  h.variant = variant;
  h.ops = options.ops;
  h.clients = options.clients;
  h.faults = options.faults;
  h.services = config.services;
  h.no_heal = options.no_heal;
  h.seeds = seeds;
  h.shard = {shard.index, shard.count, {}};
  return h;
}

SweepRecord sweep_record(const sim::RunResult& result, double wall_s, std::string reproduce) {
  SweepRecord r;
  r.seed = result.seed;
  r.ok = result.ok();
  if (result.violation) {
    r.invariant = result.violation->invariant;
    r.liveness = result.violation->liveness;
    r.message = result.violation->message;
    if (r.message.size() > kMaxRecordMessage) {
      r.message = r.message.substr(0, kMaxRecordMessage) + "...";
    }
  }
  r.events = result.events;
  // Microseconds are plenty and keep the line short.
  r.wall_s = std::round(wall_s * 1e6) / 1e6;
  r.reproduce = std::move(reproduce);
  return r;
}

std::string sweep_header_line(const SweepHeader& h) {
  Ordered services = Ordered::object();
  for (const auto& [name, impl] : h.services) services[name] = impl;
  Ordered j;
  j["seer_sweep"] = kSweepFormat;
  j["seer_version"] = h.seer_version;
  j["seer_commit"] = h.seer_commit;
  j["system"] = h.system;
  j["variant"] = h.variant;
  j["options"] = Ordered{{"ops", h.ops},
                         {"clients", h.clients},
                         {"faults", h.faults},
                         {"services", services},
                         {"no_heal", h.no_heal}};
  j["seeds"] = Ordered{{"first", h.seeds.first}, {"last", h.seeds.last}};
  j["shard"] = Ordered{{"index", h.shard.index}, {"count", h.shard.count}};
  return stream_line(j);
}

std::string stream_line(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + '\n';
}

void append_record_fields(nlohmann::ordered_json& j, const SweepRecord& r) {
  j["verdict"] = r.ok ? "ok" : "fail";
  if (!r.ok) {
    j["invariant"] = r.invariant;
    j["kind"] = r.liveness ? "liveness" : "safety";
    j["message"] = r.message;
  }
  j["events"] = r.events;
  j["wall_s"] = r.wall_s;
  j["reproduce"] = r.reproduce;
}

std::string sweep_record_line(const SweepRecord& r) {
  Ordered j;
  j["seed"] = r.seed;
  append_record_fields(j, r);
  return stream_line(j);
}

SweepHeader parse_sweep_header(std::string_view line) {
  nlohmann::json j;
  try {
    j = record_parse(line);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("not a seer sweep output (") + e.what() + ")");
  }
  if (!j.contains("seer_sweep")) {
    throw std::invalid_argument("not a seer sweep output (no \"seer_sweep\" header)");
  }
  if (const auto why = trace::unreadable_version(j, "seer_sweep", kSweepFormat); !why.empty()) {
    throw std::invalid_argument("cannot read this sweep output: " + why);
  }
  SweepHeader h;
  h.seer_version = record_string(j, "seer_version");
  // Absent from the files of seers before 0.2.0's commit recording: an unknown commit.
  if (j.contains("seer_commit")) h.seer_commit = record_string(j, "seer_commit");
  h.system = record_string(j, "system");
  h.variant = record_string(j, "variant");
  const auto& o = record_object(j, "options");
  h.ops = record_integer<int>(o, "ops", 1);
  h.clients = record_integer<int>(o, "clients", 0);
  h.faults = record_string(o, "faults");
  for (const auto& [name, impl] : record_object(o, "services").items()) {
    if (!impl.is_string()) throw std::invalid_argument("service \"" + name + "\" is not a string");
    h.services[name] = impl.get<std::string>();
  }
  h.no_heal = record_bool(o, "no_heal");
  const auto& seeds = record_object(j, "seeds");
  h.seeds.first = record_integer<std::uint64_t>(seeds, "first", 0);
  h.seeds.last = record_integer<std::uint64_t>(seeds, "last", 0);
  if (h.seeds.first > h.seeds.last || h.seeds.last - h.seeds.first >= kMaxSweepSeeds) {
    throw std::invalid_argument("\"seeds\" is not a range of 1 to " +
                                std::to_string(kMaxSweepSeeds) + " seeds");
  }
  const auto& shard = record_object(j, "shard");
  h.shard.index = record_integer<std::uint64_t>(shard, "index", 0);
  h.shard.count = record_integer<std::uint64_t>(shard, "count", 1);
  if (h.shard.count > kMaxShards || h.shard.index >= h.shard.count) {
    throw std::invalid_argument("\"shard\" is not shard I of N with I < N <= " +
                                std::to_string(kMaxShards));
  }
  return h;
}

SweepRecord parse_sweep_record(std::string_view line) {
  nlohmann::json j;
  try {
    j = record_parse(line);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("not a sweep record (") + e.what() + ")");
  }
  if (j.contains("seer_sweep")) {
    throw std::invalid_argument("a second sweep header (two sweeps' outputs concatenated?)");
  }
  SweepRecord r;
  r.seed = record_integer<std::uint64_t>(j, "seed", 0);
  const auto verdict = record_string(j, "verdict");
  if (verdict != "ok" && verdict != "fail") {
    throw std::invalid_argument("\"verdict\" is " + record_quote(verdict) +
                                ", not \"ok\" or \"fail\"");
  }
  r.ok = verdict == "ok";
  if (!r.ok) {
    r.invariant = record_string(j, "invariant");
    const auto kind = record_string(j, "kind");
    if (kind != "safety" && kind != "liveness") {
      throw std::invalid_argument("\"kind\" is " + record_quote(kind) +
                                  ", not \"safety\" or \"liveness\"");
    }
    r.liveness = kind == "liveness";
    r.message = record_string(j, "message");
  }
  r.events = record_integer<std::uint64_t>(j, "events", 0);
  const auto& wall = record_field(j, "wall_s");
  if (!wall.is_number() || !std::isfinite(wall.get<double>()) || wall.get<double>() < 0) {
    throw std::invalid_argument("\"wall_s\" is not a non-negative number");
  }
  r.wall_s = wall.get<double>();
  r.reproduce = record_string(j, "reproduce");
  return r;
}

std::optional<FieldDifference> sweep_header_difference(const SweepHeader& a, const SweepHeader& b,
                                                       bool with_shard) {
  const auto differ = [](const char* field, const std::string& x, const std::string& y) {
    return std::optional<FieldDifference>({field, record_printable(x), record_printable(y)});
  };
  if (a.system != b.system) return differ("system", a.system, b.system);
  if (a.variant != b.variant) return differ("variant", a.variant, b.variant);
  if (a.seer_version != b.seer_version) {
    return differ("seer_version", a.seer_version, b.seer_version);
  }
  // Two builds of one release can differ in what a seed does; an unknown commit matches only
  // another unknown one (it cannot be told apart from any).
  if (a.seer_commit != b.seer_commit) {
    const auto commit = [](const std::string& c) { return c.empty() ? "unknown" : c; };
    return differ("seer_commit", commit(a.seer_commit), commit(b.seer_commit));
  }
  if (a.ops != b.ops) return differ("ops", std::to_string(a.ops), std::to_string(b.ops));
  if (a.clients != b.clients) {
    return differ("clients", std::to_string(a.clients), std::to_string(b.clients));
  }
  if (a.faults != b.faults) return differ("faults", a.faults, b.faults);
  if (a.services != b.services) {
    return differ("services", record_services(a.services), record_services(b.services));
  }
  if (a.no_heal != b.no_heal) {
    return differ("no_heal", a.no_heal ? "true" : "false", b.no_heal ? "true" : "false");
  }
  const auto range = [](const SeedRange& r) {
    return std::to_string(r.first) + ".." + std::to_string(r.last);
  };
  if (a.seeds.first != b.seeds.first || a.seeds.last != b.seeds.last) {
    return differ("seeds", range(a.seeds), range(b.seeds));
  }
  const auto shard = [](const Shard& s) {
    return std::to_string(s.index) + "/" + std::to_string(s.count);
  };
  if (with_shard && (a.shard.index != b.shard.index || a.shard.count != b.shard.count)) {
    return differ("shard", shard(a.shard), shard(b.shard));
  }
  return std::nullopt;
}

std::optional<FieldDifference> sweep_record_difference(const SweepRecord& a, const SweepRecord& b) {
  const auto differ = [](const char* field, const std::string& x, const std::string& y) {
    return std::optional<FieldDifference>({field, x, y});
  };
  if (a.ok != b.ok) return differ("verdict", a.ok ? "ok" : "fail", b.ok ? "ok" : "fail");
  if (a.invariant != b.invariant) {
    return differ("invariant", record_quote(a.invariant), record_quote(b.invariant));
  }
  if (a.liveness != b.liveness) {
    return differ("kind", a.liveness ? "liveness" : "safety", b.liveness ? "liveness" : "safety");
  }
  if (a.message != b.message) {
    return differ("message", record_quote(a.message), record_quote(b.message));
  }
  if (a.events != b.events) {
    return differ("events", std::to_string(a.events), std::to_string(b.events));
  }
  return std::nullopt;
}

}  // namespace seer::cli
