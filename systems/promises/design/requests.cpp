#include "requests.hpp"

namespace seer::promises::design {

using json = nlohmann::json;

namespace {

// An object built field by field: nlohmann's {{"key", value}, ...} builds a two-element array per
// field and copies every value once more, and a run builds a request for every call. The object is
// the same either way (its map orders the keys).
class Object {
 public:
  Object&& add(const char* key, json value) && {
    json_.get_ref<json::object_t&>().emplace(key, std::move(value));
    return std::move(*this);
  }
  operator json() && { return std::move(json_); }  // NOLINT(google-explicit-constructor)

 private:
  json json_ = json::object();
};

}  // namespace

json request_envelope(const std::string& kind, json data) {
  return Object()
      .add("kind", kind)
      .add("head", Object().add("corrId", "").add("version", "2026-04-01"))
      .add("data", std::move(data));
}

json promise_create(const std::string& id, std::int64_t timeout_at, json tags,
                    const std::string& param) {
  json p = json::object();
  if (!param.empty()) p["data"] = param;
  return request_envelope("promise.create", Object()
                                                .add("id", id)
                                                .add("timeoutAt", timeout_at)
                                                .add("param", std::move(p))
                                                .add("tags", std::move(tags)));
}

json promise_settle(const std::string& id, const std::string& state, const std::string& value) {
  return request_envelope(
      "promise.settle",
      Object().add("id", id).add("state", state).add("value", Object().add("data", value)));
}

json promise_get(const std::string& id) {
  return request_envelope("promise.get", Object().add("id", id));
}

json register_listener(const std::string& awaited, const std::string& address) {
  return request_envelope("promise.register_listener",
                          Object().add("awaited", awaited).add("address", address));
}

json register_callback(const std::string& awaited, const std::string& awaiter) {
  return request_envelope("promise.register_callback",
                          Object().add("awaited", awaited).add("awaiter", awaiter));
}

json task_create(const std::string& pid, std::int64_t ttl, json create) {
  return request_envelope(
      "task.create", Object().add("pid", pid).add("ttl", ttl).add("action", std::move(create)));
}

json task_acquire(const std::string& id, std::int64_t version, const std::string& pid,
                  std::int64_t ttl) {
  return request_envelope(
      "task.acquire",
      Object().add("id", id).add("version", version).add("pid", pid).add("ttl", ttl));
}

json task_release(const std::string& id, std::int64_t version) {
  return request_envelope("task.release", Object().add("id", id).add("version", version));
}

json task_fulfill(const std::string& id, std::int64_t version, const std::string& state,
                  const std::string& value) {
  return request_envelope("task.fulfill", Object()
                                              .add("id", id)
                                              .add("version", version)
                                              .add("action", promise_settle(id, state, value)));
}

json task_suspend(const std::string& id, std::int64_t version,
                  const std::vector<std::string>& awaited) {
  json actions = json::array();
  for (const auto& a : awaited) actions.push_back(register_callback(a, id));
  return request_envelope(
      "task.suspend",
      Object().add("id", id).add("version", version).add("actions", std::move(actions)));
}

json task_fence_create(const std::string& id, std::int64_t version, json create) {
  return request_envelope(
      "task.fence",
      Object().add("id", id).add("version", version).add("action", std::move(create)));
}

json task_heartbeat(const std::string& pid,
                    const std::vector<std::pair<std::string, std::int64_t>>& tasks) {
  json list = json::array();
  for (const auto& [id, version] : tasks) {
    list.push_back(Object().add("id", id).add("version", version));
  }
  return request_envelope("task.heartbeat", Object().add("pid", pid).add("tasks", std::move(list)));
}

json task_heartbeat(const std::string& pid, const std::string& id, std::int64_t version) {
  return task_heartbeat(pid, {{id, version}});
}

json task_by_id(const std::string& kind, const std::string& id) {
  return request_envelope(kind, Object().add("id", id));
}

}  // namespace seer::promises::design
