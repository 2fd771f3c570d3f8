#include "promises/checker/observations.hpp"

#include "promises/model/records.hpp"

namespace seer::promises {

namespace {

using json = nlohmann::json;

json creation_of(const json& r) {
  return {{"param", r.value("param", json())},
          {"tags", r.value("tags", json())},
          {"timeoutAt", r.value("timeoutAt", json())},
          {"createdAt", r.value("createdAt", json())}};
}

json settlement_of(const json& r) {
  return {{"state", r.value("state", json())},
          {"value", r.value("value", json())},
          {"settledAt", r.value("settledAt", json())}};
}

bool is_record(const json& j) {
  return j.is_object() && j.contains("id") && j["id"].is_string() && j.contains("state") &&
         j.contains("createdAt") && j.contains("timeoutAt") && j.contains("param") &&
         j.contains("tags");
}

}  // namespace

void Observations::add_record(const json& r) {
  auto& f = facts_[r["id"].get<std::string>()];
  if (!f.creation) f.creation = creation_of(r);  // a second, different one: no state fits both
  if (r["state"] != "pending" && !f.settlement) f.settlement = settlement_of(r);
}

void Observations::add_response(const json& data) {
  if (is_record(data)) {
    add_record(data);
    return;
  }
  if (data.is_array()) {
    for (const auto& item : data) add_response(item);
  } else if (data.is_object()) {
    for (const auto& [key, value] : data.items()) add_response(value);
  }
}

bool Observations::fits(const Facts& f, const Promise& p) {
  const json& c = *f.creation;
  if (c["timeoutAt"] != p.timeout_at || c["createdAt"] != p.created_at ||
      c["param"] != value_json(p.param) || c["tags"] != json(p.tags)) {
    return false;
  }
  if (f.settlement && p.state != PromiseState::pending) {
    const json& s = *f.settlement;
    if (s["state"] != state_name(p.state) || s["value"] != value_json(p.value) ||
        s["settledAt"] != json(*p.settled_at)) {
      return false;
    }
  }
  return true;
}

bool Observations::consistent(const State& state) const {
  for (const auto& [id, f] : facts_) {
    const auto it = state.promises.find(id);
    if (it != state.promises.end() && !fits(f, it->second)) return false;
  }
  return true;
}

bool Observations::consistent_after(const State& from, const State& to) const {
  for (const auto& [id, f] : facts_) {
    const auto it = to.promises.find(id);
    if (it == to.promises.end()) continue;
    const auto before = from.promises.find(id);
    if (before != from.promises.end() && before->second == it->second)
      continue;  // fits, as in from
    if (!fits(f, it->second)) return false;
  }
  return true;
}

std::set<std::int64_t> Observations::exact_times(const std::string& id) const {
  std::set<std::int64_t> out;
  const auto it = facts_.find(id);
  if (it == facts_.end()) return out;
  if (const auto& c = it->second.creation; c && (*c)["createdAt"].is_number_integer()) {
    out.insert((*c)["createdAt"].get<std::int64_t>());
  }
  if (const auto& s = it->second.settlement; s && (*s)["settledAt"].is_number_integer()) {
    out.insert((*s)["settledAt"].get<std::int64_t>());
  }
  return out;
}

std::optional<std::int64_t> Observations::timeout_at(const std::string& id) const {
  const auto it = facts_.find(id);
  if (it == facts_.end() || !(*it->second.creation)["timeoutAt"].is_number_integer()) {
    return std::nullopt;
  }
  return (*it->second.creation)["timeoutAt"].get<std::int64_t>();
}

std::set<std::int64_t> Observations::all_timeouts() const {
  std::set<std::int64_t> out;
  for (const auto& [id, f] : facts_) {
    if (const auto t = timeout_at(id)) out.insert(*t);
  }
  return out;
}

}  // namespace seer::promises
