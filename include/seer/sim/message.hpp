// Messages exchanged between processes. A payload is an immutable typed object shared by reference,
// so sending, duplicating and tracing a message never copies its contents.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string_view>

namespace seer::sim {

using ProcessId = std::int32_t;
constexpr ProcessId kNoProcess = -1;

// Base of every message body. `type()` names it in traces; `to_json()` renders it for the trace and
// viewers.
struct Payload {
  virtual ~Payload() = default;
  virtual std::string_view type() const = 0;
  virtual nlohmann::json to_json() const = 0;
};

using PayloadPtr = std::shared_ptr<const Payload>;

struct Message {
  ProcessId from = kNoProcess;
  ProcessId to = kNoProcess;
  std::uint64_t id = 0;  // unique per run; duplicates keep the id of the original
  PayloadPtr body;

  template <class T>
  const T* as() const {
    return dynamic_cast<const T*>(body.get());
  }
};

template <class T, class... Args>
PayloadPtr make_payload(Args&&... args) {
  return std::make_shared<const T>(T{std::forward<Args>(args)...});
}

}  // namespace seer::sim
