#include "promises/model/records.hpp"

#include <array>
#include <utility>

namespace seer::promises {

namespace {
using json = nlohmann::json;

constexpr std::array<std::pair<PromiseState, std::string_view>, 5> kPromiseStates{{
    {PromiseState::pending, "pending"},
    {PromiseState::resolved, "resolved"},
    {PromiseState::rejected, "rejected"},
    {PromiseState::rejected_canceled, "rejected_canceled"},
    {PromiseState::rejected_timedout, "rejected_timedout"},
}};

constexpr std::array<std::pair<TaskState, std::string_view>, 5> kTaskStates{{
    {TaskState::pending, "pending"},
    {TaskState::acquired, "acquired"},
    {TaskState::suspended, "suspended"},
    {TaskState::halted, "halted"},
    {TaskState::fulfilled, "fulfilled"},
}};

json message(const std::string& address, std::string_view kind, json data) {
  json m = json::object();
  m["kind"] = kind;
  m["head"] = json::object();
  m["data"] = std::move(data);
  json out = json::object();
  out["address"] = address;
  out["message"] = std::move(m);
  return out;
}
}  // namespace

std::string_view state_name(PromiseState state) {
  for (const auto& [s, name] : kPromiseStates)
    if (s == state) return name;
  return "pending";
}

std::string_view state_name(TaskState state) {
  for (const auto& [s, name] : kTaskStates)
    if (s == state) return name;
  return "pending";
}

std::optional<PromiseState> promise_state_from_name(std::string_view name) {
  for (const auto& [s, n] : kPromiseStates)
    if (n == name) return s;
  return std::nullopt;
}

json value_json(const Value& value) {
  json out = json::object();
  if (value.headers) out["headers"] = *value.headers;
  if (value.data) out["data"] = *value.data;
  return out;
}

// spec §1.2: settledAt present iff the promise is settled.
json promise_record(const Promise& promise) {
  json out = json::object();
  out["id"] = promise.id;
  out["state"] = state_name(promise.state);
  out["param"] = value_json(promise.param);
  out["value"] = value_json(promise.value);
  out["tags"] = promise.tags;
  out["timeoutAt"] = promise.timeout_at;
  out["createdAt"] = promise.created_at;
  if (promise.settled_at) out["settledAt"] = *promise.settled_at;
  return out;
}

// spec §1.2: pid and ttl present iff acquired (I7 makes "iff set" the same thing).
json task_record(const Task& task) {
  json out = json::object();
  out["id"] = task.id;
  out["state"] = state_name(task.state);
  out["version"] = task.version;
  out["resumes"] = task.resumes.items();
  if (task.pid) out["pid"] = *task.pid;
  if (task.ttl) out["ttl"] = *task.ttl;
  return out;
}

json execute_message(const std::string& address, const std::string& id, std::int64_t version) {
  json task = json::object();
  task["id"] = id;
  task["version"] = version;
  json data = json::object();
  data["task"] = std::move(task);
  return message(address, "execute", std::move(data));
}

json unblock_message(const std::string& address, const Promise& promise) {
  json data = json::object();
  data["promise"] = promise_record(promise);
  return message(address, "unblock", std::move(data));
}

json envelope(std::string_view kind, const Head& head, int status, json data) {
  json h = json::object();
  h["corrId"] = head.corr_id;
  h["status"] = status;
  h["version"] = head.version;
  json out = json::object();
  out["kind"] = kind;
  out["head"] = std::move(h);
  out["data"] = std::move(data);
  return out;
}

}  // namespace seer::promises
