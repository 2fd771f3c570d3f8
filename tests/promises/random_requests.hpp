// Request builders in the SDK's envelope shapes (spec §1.1, §5) and a generator of random request
// sequences over few ids, shared by the model's tests and the concrete SQL's tests.
#pragma once

#include "promises/model/state.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace seer::promises::testing {

using json = nlohmann::json;
using seer::promises::State;

// ---- request builders (the SDK's envelope shapes, spec §1.1 and §5) ----

inline json head(const std::string& corr = "c") {
  json h = json::object();
  h["corrId"] = corr;
  h["version"] = "v";
  return h;
}

inline json request(const std::string& kind, json data) {
  json r = json::object();
  r["kind"] = kind;
  r["head"] = head();
  r["data"] = std::move(data);
  return r;
}

inline json tags_of(std::initializer_list<std::pair<const char*, const char*>> kvs) {
  json t = json::object();
  for (const auto& [k, v] : kvs) t[k] = v;
  return t;
}

inline json create(const std::string& id, std::int64_t timeout_at, json tags = json::object(),
                   json param = json::object()) {
  json d = json::object();
  d["id"] = id;
  d["timeoutAt"] = timeout_at;
  d["param"] = std::move(param);
  d["tags"] = std::move(tags);
  return request("promise.create", std::move(d));
}

inline json settle(const std::string& id, const std::string& state,
                   const std::string& value = "v") {
  json d = json::object();
  d["id"] = id;
  d["state"] = state;
  d["value"] = json::object();
  d["value"]["data"] = value;
  return request("promise.settle", std::move(d));
}

inline json by_id(const std::string& kind, const std::string& id) {
  json d = json::object();
  d["id"] = id;
  return request(kind, std::move(d));
}

inline json callback(const std::string& awaited, const std::string& awaiter) {
  json d = json::object();
  d["awaited"] = awaited;
  d["awaiter"] = awaiter;
  return request("promise.register_callback", std::move(d));
}

inline json listener(const std::string& awaited, const std::string& address) {
  json d = json::object();
  d["awaited"] = awaited;
  d["address"] = address;
  return request("promise.register_listener", std::move(d));
}

inline json task_create(const std::string& id, std::int64_t timeout_at, std::int64_t ttl,
                        const std::string& pid = "p1",
                        json tags = tags_of({{"resonate:target", "T"}})) {
  json d = json::object();
  d["pid"] = pid;
  d["ttl"] = ttl;
  d["action"] = create(id, timeout_at, std::move(tags));
  return request("task.create", std::move(d));
}

inline json acquire(const std::string& id, std::int64_t version, std::int64_t ttl = 1000,
                    const std::string& pid = "p1") {
  json d = json::object();
  d["id"] = id;
  d["version"] = version;
  d["pid"] = pid;
  d["ttl"] = ttl;
  return request("task.acquire", std::move(d));
}

inline json release(const std::string& id, std::int64_t version) {
  json d = json::object();
  d["id"] = id;
  d["version"] = version;
  return request("task.release", std::move(d));
}

inline json fulfill(const std::string& id, std::int64_t version,
                    const std::string& state = "resolved") {
  json d = json::object();
  d["id"] = id;
  d["version"] = version;
  d["action"] = settle(id, state);
  return request("task.fulfill", std::move(d));
}

inline json suspend(const std::string& id, std::int64_t version,
                    const std::vector<std::string>& awaited) {
  json d = json::object();
  d["id"] = id;
  d["version"] = version;
  d["actions"] = json::array();
  for (const std::string& a : awaited) d["actions"].push_back(callback(a, id));
  return request("task.suspend", std::move(d));
}

inline json fence(const std::string& id, std::int64_t version, json action) {
  json d = json::object();
  d["id"] = id;
  d["version"] = version;
  d["action"] = std::move(action);
  return request("task.fence", std::move(d));
}

inline json heartbeat(const std::string& pid, const std::string& id, std::int64_t version) {
  json entry = json::object();
  entry["id"] = id;
  entry["version"] = version;
  json d = json::object();
  d["pid"] = pid;
  d["tasks"] = json::array({entry});
  return request("task.heartbeat", std::move(d));
}

inline json tick(std::int64_t time) {
  json d = json::object();
  d["time"] = time;
  return request("debug.tick", std::move(d));
}

inline json execute(const std::string& address, const std::string& id, std::int64_t version) {
  return json::parse(R"({"address":")" + address +
                     R"(","message":{"kind":"execute","head":{},"data":{"task":{"id":")" + id +
                     R"(","version":)" + std::to_string(version) + "}}}}");
}
// ---- property test: invariants after every step of random sequences ----

// Random requests over few ids, after /tmp/promises-research/fuzz/fuzz2.mjs.
class Generator {
 public:
  // Ids are `prefix` + one of a few letters: a prefix "o:" puts them all in origin "o".
  explicit Generator(std::uint64_t seed, std::string prefix = "")
      : rng_(seed), prefix_(std::move(prefix)) {}
  // Deadlines and leases `divisor` times closer, for a live run of seconds whose sweeps must find
  // something due.
  Generator& shorter_times(std::int64_t divisor) {
    divisor_ = divisor;
    return *this;
  }
  // The two task targets and two listener addresses requests name (by default plain names, which
  // no poll stream serves).
  Generator& addresses(std::vector<std::string> targets, std::vector<std::string> listeners) {
    targets_ = std::move(targets);
    listeners_ = std::move(listeners);
    return *this;
  }

  json next(std::int64_t now, const State& s) {
    const std::string id = any_id();
    switch (below(17)) {
      case 0:
        return by_id("promise.get", id);
      case 1:
      case 2:
        return create(id, timeout(now), tags(now));
      case 3:
        return settle(id, pick(kStates));
      case 4:
        return callback(any_id(), id);
      case 5:
        return listener(id, listeners_[static_cast<std::size_t>(below(2))]);
      case 6:
        return task_create(id, timeout(now), below(20000 / divisor_), pick({"p1", "p2"}));
      case 7:
        return acquire(id, version(s, id), below(20000), pick({"p1", "p2"}));
      case 8:
        return release(id, version(s, id));
      case 9:
        return suspend(id, version(s, id), {any_id(), any_id()});
      case 10:
        return fulfill(id, version(s, id), pick(kStates));
      case 11: {
        json action =
            below(2) ? create(any_id(), timeout(now), tags(now)) : settle(any_id(), pick(kStates));
        return fence(id, version(s, id), action);
      }
      case 12:
        return heartbeat(pick({"p1", "p2"}), id, version(s, id));
      case 13:
        return by_id(below(2) ? "task.halt" : "task.continue", id);
      case 14:
        return by_id("task.get", id);
      case 15:
        return malformed(id);
      default:
        return tick(now);
    }
  }

  std::int64_t advance() { return below(10) == 0 ? 30000 + below(20000) : below(2500); }

 private:
  static constexpr const char* kIds[] = {"a", "b", "c", "d", "e", "f", "g"};
  static constexpr const char* kStates[] = {"resolved", "rejected", "rejected_canceled"};

  std::string any_id() { return prefix_ + pick(kIds); }
  std::int64_t below(std::int64_t n) { return static_cast<std::int64_t>(rng_() % n); }
  template <std::size_t N>
  const char* pick(const char* const (&a)[N]) {
    return a[below(N)];
  }
  const char* pick(std::initializer_list<const char*> a) { return a.begin()[below(a.size())]; }

  std::int64_t timeout(std::int64_t now) {
    return now + (below(below(2) ? 300000 : 30000) - 2000) / divisor_;
  }

  json tags(std::int64_t now) {
    json t = json::object();
    if (below(10) < 6) t["resonate:target"] = targets_[static_cast<std::size_t>(below(2))];
    if (below(10) < 3) t["resonate:timer"] = "true";
    if (below(10) < 4) t["resonate:scope"] = "global";
    if (below(10) < 4) t["resonate:branch"] = pick({"a", "b"});
    if (below(10) < 1) t["resonate:delay"] = std::to_string(now + below(100000));
    return t;
  }

  std::int64_t version(const State& s, const std::string& id) {
    const auto it = s.tasks.find(id);
    return it != s.tasks.end() && below(10) < 9 ? it->second.version : below(4);
  }

  json malformed(const std::string& id) {
    json r = settle(id, "resolved");
    switch (below(4)) {
      case 0:
        r["data"].erase("value");
        break;
      case 1:
        r["data"]["id"] = 3;
        break;
      case 2:
        r["kind"] = "promise.bogus";
        break;
      default:
        r["data"]["value"]["headers"] = json::array();
        break;
    }
    return r;
  }

  std::mt19937_64 rng_;
  std::string prefix_;
  std::int64_t divisor_ = 1;
  std::vector<std::string> targets_{"T1", "T2"};
  std::vector<std::string> listeners_{"L1", "L2"};
};

}  // namespace seer::promises::testing
