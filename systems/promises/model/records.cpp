#include "promises/model/records.hpp"

#include "promises/model/json_fields.hpp"

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

// The fields in key order (json_fields.hpp).
json message(const std::string& address, std::string_view kind, json data) {
  JsonFields m;
  m.add("data", std::move(data));
  m.add("head", json::object());
  m.add("kind", kind);
  JsonFields out;
  out.add("address", address);
  out.add("message", std::move(m.object));
  return std::move(out.object);
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

// Here and below, the fields in key order (json_fields.hpp).
json value_json(const Value& value) {
  JsonFields out;
  if (value.data) out.add("data", *value.data);
  if (value.headers) out.add("headers", *value.headers);
  return std::move(out.object);
}

// spec §1.2: settledAt present iff the promise is settled.
json promise_record(const Promise& promise) {
  JsonFields out;
  out.add("createdAt", promise.created_at);
  out.add("id", promise.id);
  out.add("param", value_json(promise.param));
  if (promise.settled_at) out.add("settledAt", *promise.settled_at);
  out.add("state", state_name(promise.state));
  out.add("tags", promise.tags);
  out.add("timeoutAt", promise.timeout_at);
  out.add("value", value_json(promise.value));
  return std::move(out.object);
}

// spec §1.2: pid and ttl present iff acquired (I7 makes "iff set" the same thing).
json task_record(const Task& task) {
  JsonFields out;
  out.add("id", task.id);
  if (task.pid) out.add("pid", *task.pid);
  out.add("resumes", task.resumes.items());
  out.add("state", state_name(task.state));
  if (task.ttl) out.add("ttl", *task.ttl);
  out.add("version", task.version);
  return std::move(out.object);
}

json execute_message(const std::string& address, const std::string& id, std::int64_t version) {
  JsonFields task;
  task.add("id", id);
  task.add("version", version);
  JsonFields data;
  data.add("task", std::move(task.object));
  return message(address, "execute", std::move(data.object));
}

json unblock_message(const std::string& address, const Promise& promise) {
  JsonFields data;
  data.add("promise", promise_record(promise));
  return message(address, "unblock", std::move(data.object));
}

json envelope(std::string_view kind, const Head& head, int status, json data) {
  JsonFields h;
  h.add("corrId", head.corr_id);
  h.add("status", status);
  h.add("version", head.version);
  JsonFields out;
  out.add("data", std::move(data));
  out.add("head", std::move(h.object));
  out.add("kind", kind);
  return std::move(out.object);
}

}  // namespace seer::promises
