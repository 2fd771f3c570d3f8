#include "promises/model/state_codec.hpp"

#include <stdexcept>

#include "promises/model/json_fields.hpp"
#include "promises/model/records.hpp"

namespace seer::promises {

namespace {

using json = nlohmann::json;

constexpr TaskState kTaskStateOrder[] = {TaskState::pending, TaskState::acquired,
                                         TaskState::suspended, TaskState::halted,
                                         TaskState::fulfilled};

[[noreturn]] void bad(const std::string& what) {
  throw std::invalid_argument("promises state: " + what);
}

// One lookup per field: the oracle and the KV design decode a partition at every read.
const json& field(const json& j, const char* name) {
  if (j.is_object()) {
    const auto it = j.find(name);
    if (it != j.end()) return *it;
  }
  bad(std::string("missing field '") + name + "'");
}

template <class T>
T get(const json& j, const char* name) {
  try {
    return field(j, name).get<T>();
  } catch (const json::exception&) {
    bad(std::string("field '") + name + "' has the wrong type");
  }
}

template <class T>
std::optional<T> get_optional(const json& j, const char* name) {
  if (!j.is_object()) return std::nullopt;
  const auto it = j.find(name);
  if (it == j.end() || it->is_null()) return std::nullopt;
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    bad(std::string("field '") + name + "' has the wrong type");
  }
}

using Fields = JsonFields;

json optional_json(const auto& v) {
  return v ? json(*v) : json();
}

Value value_from(const json& j) {
  Value v;
  v.headers = get_optional<std::map<std::string, std::string>>(j, "headers");
  v.data = get_optional<std::string>(j, "data");
  return v;
}

OrderedSet<std::string> set_from(const json& j, const char* name) {
  OrderedSet<std::string> out;
  for (const auto& item : get<std::vector<std::string>>(j, name)) out.add(item);
  return out;
}

TaskState task_state_from(const std::string& name) {
  for (auto s : kTaskStateOrder)
    if (state_name(s) == name) return s;
  bad("unknown task state '" + name + "'");
}

}  // namespace

json state_to_json(const State& state) {
  json promises = json::array();
  promises.get_ref<json::array_t&>().reserve(state.creation_order.size());
  for (const auto& id : state.creation_order) {
    const auto& p = state.promises.at(id);
    Fields f;  // in key order
    f.add("callbacks", p.callbacks.items());
    f.add("createdAt", p.created_at);
    f.add("id", p.id);
    f.add("listeners", p.listeners.items());
    f.add("param", value_json(p.param));
    f.add("seq", p.seq);
    f.add("settledAt", optional_json(p.settled_at));
    f.add("state", state_name(p.state));
    f.add("tags", p.tags);
    f.add("timeoutAt", p.timeout_at);
    f.add("value", value_json(p.value));
    promises.push_back(std::move(f.object));
  }
  json tasks = json::array();
  tasks.get_ref<json::array_t&>().reserve(state.tasks.size());
  for (const auto& [id, t] : state.tasks) {
    Fields f;
    f.add("id", t.id);
    f.add("pid", optional_json(t.pid));
    f.add("resumes", t.resumes.items());
    f.add("state", state_name(t.state));
    f.add("ttl", optional_json(t.ttl));
    f.add("version", t.version);
    tasks.push_back(std::move(f.object));
  }
  json timeouts = json::array();
  timeouts.get_ref<json::array_t&>().reserve(state.task_timeouts.size());
  for (const auto& [id, t] : state.task_timeouts.entries()) {
    Fields f;
    f.add("at", t.at);
    f.add("id", id);
    f.add("type", static_cast<int>(t.kind));
    timeouts.push_back(std::move(f.object));
  }
  Fields f;
  f.add("promises", std::move(promises));
  f.add("taskTimeouts", std::move(timeouts));
  f.add("tasks", std::move(tasks));
  return std::move(f.object);
}

State state_from_json(const json& j) {
  State state;
  for (const auto& p : field(j, "promises")) {
    Promise promise;
    promise.id = get<std::string>(p, "id");
    promise.seq = get<std::int64_t>(p, "seq");
    const auto s = promise_state_from_name(get<std::string>(p, "state"));
    if (!s) bad("unknown promise state in '" + promise.id + "'");
    promise.state = *s;
    promise.param = value_from(field(p, "param"));
    promise.value = value_from(field(p, "value"));
    promise.tags = get<Tags>(p, "tags");
    promise.timeout_at = get<std::int64_t>(p, "timeoutAt");
    promise.created_at = get<std::int64_t>(p, "createdAt");
    promise.settled_at = get_optional<std::int64_t>(p, "settledAt");
    promise.callbacks = set_from(p, "callbacks");
    promise.listeners = set_from(p, "listeners");
    if (promise.seq != static_cast<std::int64_t>(state.creation_order.size()) + 1) {
      bad("promise '" + promise.id + "' is out of creation order");
    }
    state.creation_order.push_back(promise.id);
    if (!state.promises.emplace(promise.id, std::move(promise)).second) bad("duplicate promise");
  }
  for (const auto& t : field(j, "tasks")) {
    Task task;
    task.id = get<std::string>(t, "id");
    task.state = task_state_from(get<std::string>(t, "state"));
    task.version = get<std::int64_t>(t, "version");
    task.pid = get_optional<std::string>(t, "pid");
    task.ttl = get_optional<std::int64_t>(t, "ttl");
    task.resumes = set_from(t, "resumes");
    if (!state.tasks.emplace(task.id, std::move(task)).second) bad("duplicate task");
  }
  for (const auto& t : field(j, "taskTimeouts")) {
    const auto type = get<int>(t, "type");
    if (type != 0 && type != 1) bad("unknown task timeout type");
    state.task_timeouts.upsert(get<std::string>(t, "id"),
                               {static_cast<TimeoutKind>(type), get<std::int64_t>(t, "at")});
  }
  return state;
}

}  // namespace seer::promises
