// Messages exchanged between processes. A payload is an immutable typed object shared by reference,
// so sending, duplicating and tracing a message never copies its contents.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string_view>
#include <type_traits>
#include <typeinfo>

namespace seer::sim {

using ProcessId = std::int32_t;
constexpr ProcessId kNoProcess = -1;

// Base of every message body. `type()` names it in traces; `to_json()` renders it for the trace and
// viewers.
struct Payload {
  Payload() = default;
  // A copy starts without the original's type hash (below): a derived type may name itself by data
  // its own copy constructor changes.
  Payload(const Payload& /*other*/) noexcept {}
  Payload& operator=(const Payload& /*other*/) noexcept {
    type_hash_ = 0;
    return *this;
  }
  virtual ~Payload() = default;
  virtual std::string_view type() const = 0;
  virtual nlohmann::json to_json() const = 0;

 private:
  friend class TraceHash;
  // The run hash's digest of type(), computed at the payload's first event (0: not yet). A payload
  // is immutable; hashing its type's text again at every send and delivery, through a virtual
  // call, was 7-8 % of a ping-pong delivery's time.
  mutable std::uint64_t type_hash_ = 0;
};

using PayloadPtr = std::shared_ptr<const Payload>;

struct Message {
  ProcessId from = kNoProcess;
  ProcessId to = kNoProcess;
  std::uint64_t id = 0;  // unique per run; duplicates keep the id of the original
  PayloadPtr body;

  // The body as a T, or nullptr. For a final T (every service's request and reply) a comparison
  // of type_info instead of dynamic_cast's walk of the class hierarchy: every process tests each
  // message it receives.
  template <class T>
  const T* as() const {
    if constexpr (std::is_final_v<T>) {
      const Payload* payload = body.get();  // (not typeid(*body): clang warns of the call)
      return payload && typeid(*payload) == typeid(T) ? static_cast<const T*>(payload) : nullptr;
    } else {
      return dynamic_cast<const T*>(body.get());
    }
  }
};

template <class T, class... Args>
PayloadPtr make_payload(Args&&... args) {
  return std::make_shared<const T>(T{std::forward<Args>(args)...});
}

}  // namespace seer::sim
