// Request envelopes as the SDK builds them (spec §1.1, §5); corrId is filled in by the Caller.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace seer::promises::design {

nlohmann::json request_envelope(const std::string& kind, nlohmann::json data);
nlohmann::json promise_create(const std::string& id, std::int64_t timeout_at, nlohmann::json tags,
                              const std::string& param = "");
nlohmann::json promise_settle(const std::string& id, const std::string& state,
                              const std::string& value);
nlohmann::json promise_get(const std::string& id);
nlohmann::json register_listener(const std::string& awaited, const std::string& address);
nlohmann::json register_callback(const std::string& awaited, const std::string& awaiter);
nlohmann::json task_create(const std::string& pid, std::int64_t ttl, nlohmann::json create);
nlohmann::json task_acquire(const std::string& id, std::int64_t version, const std::string& pid,
                            std::int64_t ttl);
nlohmann::json task_release(const std::string& id, std::int64_t version);
nlohmann::json task_fulfill(const std::string& id, std::int64_t version, const std::string& state,
                            const std::string& value);
nlohmann::json task_suspend(const std::string& id, std::int64_t version,
                            const std::vector<std::string>& awaited);
nlohmann::json task_fence_create(const std::string& id, std::int64_t version,
                                 nlohmann::json create);
nlohmann::json task_heartbeat(const std::string& pid,
                              const std::vector<std::pair<std::string, std::int64_t>>& tasks);
// A heartbeat of one task (built outside co_await: GCC 12 miscompiles an initializer list inside).
nlohmann::json task_heartbeat(const std::string& pid, const std::string& id, std::int64_t version);
nlohmann::json task_by_id(const std::string& kind, const std::string& id);  // get, halt, continue

}  // namespace seer::promises::design
