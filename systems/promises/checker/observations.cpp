#include "promises/checker/observations.hpp"

#include "promises/model/json_compare.hpp"
#include "promises/model/records.hpp"

namespace seer::promises {

namespace {

using json = nlohmann::json;

// A record's field, or null if it has none (a pending promise shows no settledAt).
const json& field(const json& record, std::string_view name) {
  static const json kNull;
  if (!record.is_object()) return kNull;
  // In the object's map (no JSON iterators), by the name's known length.
  const auto& map = record.get_ref<const json::object_t&>();
  const auto it = map.find(name);
  return it != map.end() ? it->second : kNull;
}

bool is_record(const json& j) {
  // Six members at least: most objects a response holds are not records (an envelope's data).
  return j.is_object() && j.size() >= 6 && j.contains("id") && j["id"].is_string() &&
         j.contains("state") && j.contains("createdAt") && j.contains("timeoutAt") &&
         j.contains("param") && j.contains("tags");
}

}  // namespace

void Observations::add_record(const json& r) {
  auto& f = facts_[r["id"].get<std::string>()];
  if (!f.creation) {  // a second, different one: no state fits both
    f.creation = &r;
    if (const json& t = field(r, "timeoutAt"); t.is_number_integer()) {
      timeouts_.insert(t.get<std::int64_t>());
    }
  }
  const json& state = field(r, "state");  // r["state"] != "pending", without a JSON "pending"
  const bool pending = state.is_string() && state.get_ref<const std::string&>() == "pending";
  if (!pending && !f.settlement) f.settlement = &r;
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
  if (field(c, "timeoutAt") != p.timeout_at || field(c, "createdAt") != p.created_at ||
      !same_value(field(c, "param"), p.param) || !same_strings(field(c, "tags"), p.tags)) {
    return false;
  }
  if (f.settlement && p.state != PromiseState::pending) {
    const json& s = *f.settlement;
    if (field(s, "state") != state_name(p.state) || !same_value(field(s, "value"), p.value) ||
        field(s, "settledAt") != json(*p.settled_at)) {
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
  if (facts_.empty()) return true;
  // Both maps in key order, walked side by side: a promise as it was in `from` fits, as it did
  // there; only the others (changed or new) are looked up among the facts.
  auto before = from.promises.begin();
  for (const auto& [id, p] : to.promises) {
    while (before != from.promises.end() && before->first < id) ++before;
    if (before != from.promises.end() && before->first == id && before->second == p) continue;
    const auto f = facts_.find(id);
    if (f != facts_.end() && !fits(f->second, p)) return false;
  }
  return true;
}

std::set<std::int64_t> Observations::exact_times(const std::string& id) const {
  std::set<std::int64_t> out;
  const auto it = facts_.find(id);
  if (it == facts_.end()) return out;
  if (const json* c = it->second.creation; c && field(*c, "createdAt").is_number_integer()) {
    out.insert(field(*c, "createdAt").get<std::int64_t>());
  }
  if (const json* s = it->second.settlement; s && field(*s, "settledAt").is_number_integer()) {
    out.insert(field(*s, "settledAt").get<std::int64_t>());
  }
  return out;
}

std::optional<std::int64_t> Observations::timeout_at(const std::string& id) const {
  const auto it = facts_.find(id);
  if (it == facts_.end() || !field(*it->second.creation, "timeoutAt").is_number_integer()) {
    return std::nullopt;
  }
  return field(*it->second.creation, "timeoutAt").get<std::int64_t>();
}

void Observations::append_times(const std::string& id, std::vector<std::int64_t>& out) const {
  const auto it = facts_.find(id);
  if (it == facts_.end()) return;
  auto add = [&](const json* record, const char* name) {
    if (record == nullptr) return;
    if (const json& t = field(*record, name); t.is_number_integer()) {
      out.push_back(t.get<std::int64_t>());
    }
  };
  add(it->second.creation, "timeoutAt");
  add(it->second.creation, "createdAt");
  add(it->second.settlement, "settledAt");
}

}  // namespace seer::promises
