// Wire encodings of state (spec §1.2 records, §1.1 messages and response envelopes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "promises/model/request.hpp"
#include "promises/model/state.hpp"

namespace seer::promises {

std::string_view state_name(PromiseState state);
std::string_view state_name(TaskState state);
std::optional<PromiseState> promise_state_from_name(std::string_view name);

nlohmann::json value_json(const Value& value);
// PromiseRecord of the promise as given (callers pass view(p, now) where the spec says so).
nlohmann::json promise_record(const Promise& promise);
nlohmann::json task_record(const Task& task);

// {"address": a, "message": {kind: "execute", head: {}, data: {task: {id, version}}}}
nlohmann::json execute_message(const std::string& address, const std::string& id,
                               std::int64_t version);
// {"address": a, "message": {kind: "unblock", head: {}, data: {promise: record}}}
nlohmann::json unblock_message(const std::string& address, const Promise& promise);

// {kind, head: {corrId, status, version}, data}
nlohmann::json envelope(std::string_view kind, const Head& head, int status, nlohmann::json data);

}  // namespace seer::promises
