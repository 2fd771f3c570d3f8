#include "requests.hpp"

namespace seer::promises::design {

using json = nlohmann::json;

json request_envelope(const std::string& kind, json data) {
  return {{"kind", kind}, {"head", {{"corrId", ""}, {"version", "2026-04-01"}}}, {"data", data}};
}

json promise_create(const std::string& id, std::int64_t timeout_at, json tags,
                    const std::string& param) {
  json p = json::object();
  if (!param.empty()) p["data"] = param;
  return request_envelope(
      "promise.create",
      {{"id", id}, {"timeoutAt", timeout_at}, {"param", p}, {"tags", std::move(tags)}});
}

json promise_settle(const std::string& id, const std::string& state, const std::string& value) {
  return request_envelope("promise.settle",
                          {{"id", id}, {"state", state}, {"value", {{"data", value}}}});
}

json promise_get(const std::string& id) {
  return request_envelope("promise.get", {{"id", id}});
}

json register_listener(const std::string& awaited, const std::string& address) {
  return request_envelope("promise.register_listener",
                          {{"awaited", awaited}, {"address", address}});
}

json register_callback(const std::string& awaited, const std::string& awaiter) {
  return request_envelope("promise.register_callback",
                          {{"awaited", awaited}, {"awaiter", awaiter}});
}

json task_create(const std::string& pid, std::int64_t ttl, json create) {
  return request_envelope("task.create",
                          {{"pid", pid}, {"ttl", ttl}, {"action", std::move(create)}});
}

json task_acquire(const std::string& id, std::int64_t version, const std::string& pid,
                  std::int64_t ttl) {
  return request_envelope("task.acquire",
                          {{"id", id}, {"version", version}, {"pid", pid}, {"ttl", ttl}});
}

json task_release(const std::string& id, std::int64_t version) {
  return request_envelope("task.release", {{"id", id}, {"version", version}});
}

json task_fulfill(const std::string& id, std::int64_t version, const std::string& state,
                  const std::string& value) {
  return request_envelope(
      "task.fulfill",
      {{"id", id}, {"version", version}, {"action", promise_settle(id, state, value)}});
}

json task_suspend(const std::string& id, std::int64_t version,
                  const std::vector<std::string>& awaited) {
  json actions = json::array();
  for (const auto& a : awaited) actions.push_back(register_callback(a, id));
  return request_envelope("task.suspend", {{"id", id}, {"version", version}, {"actions", actions}});
}

json task_fence_create(const std::string& id, std::int64_t version, json create) {
  return request_envelope("task.fence",
                          {{"id", id}, {"version", version}, {"action", std::move(create)}});
}

json task_heartbeat(const std::string& pid,
                    const std::vector<std::pair<std::string, std::int64_t>>& tasks) {
  json list = json::array();
  for (const auto& [id, version] : tasks) list.push_back({{"id", id}, {"version", version}});
  return request_envelope("task.heartbeat", {{"pid", pid}, {"tasks", list}});
}

json task_heartbeat(const std::string& pid, const std::string& id, std::int64_t version) {
  return task_heartbeat(pid, {{id, version}});
}

json task_by_id(const std::string& kind, const std::string& id) {
  return request_envelope(kind, {{"id", id}});
}

}  // namespace seer::promises::design
