// The trace's vocabulary, defined once for the simulator that writes traces and for everything
// that reads them (explain, query, view, export): the event kinds and the keys of the oracle's
// facts (docs/trace-format.md).
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace seer::trace {

// The file formats' versions: a trace's header says {"seer_trace": kTraceFormat}, a run file
// {"seer_run": kRunFormat}. A reader refuses a version newer than its own, naming both. Format 2
// changed only the trace hash's function (sim::TraceHashFunction): a format 1 file still reads,
// and replays compute its hash the old way.
inline constexpr int kTraceFormat = 2;
inline constexpr int kRunFormat = 2;

// Empty if `header[field]` is a version this seer reads; otherwise why not, in one phrase.
inline std::string unreadable_version(const nlohmann::json& header, const char* field,
                                      int supported) {
  const auto it = header.find(field);
  if (it == header.end()) return std::string("no \"") + field + "\" version";
  if (!it->is_number_integer() || it->get<std::int64_t>() < 1) {
    return std::string("\"") + field + "\" is not a format version";
  }
  if (it->get<std::int64_t>() > supported) {
    return "format version " + std::to_string(it->get<std::int64_t>()) + " (this seer reads " +
           std::to_string(supported) + "; a newer seer wrote it)";
  }
  return {};
}

enum class EventKind : std::uint8_t {
  kStart,
  kSend,
  kDeliver,
  kDrop,
  kDuplicate,
  kCrash,
  kRestart,
  kPause,
  kResume,
  kTimer,
  kStorageRead,
  kStorageWrite,
  kStorageSync,
  kInvoke,
  kComplete,
  kPartition,
  kHeal,
  kViolation,
  kAnnotation,
};

inline constexpr std::array<std::string_view, 19> kEventKindNames = {
    "start",    "send",      "deliver", "drop",         "duplicate",     "crash",        "restart",
    "pause",    "resume",    "timer",   "storage_read", "storage_write", "storage_sync", "invoke",
    "complete", "partition", "heal",    "violation",    "annotation"};

inline const char* event_kind_name(EventKind kind) {
  const auto i = static_cast<std::size_t>(kind);
  return i < kEventKindNames.size() ? kEventKindNames[i].data() : "?";
}

inline std::optional<EventKind> parse_event_kind(std::string_view name) {
  for (std::size_t i = 0; i < kEventKindNames.size(); ++i) {
    if (kEventKindNames[i] == name) return static_cast<EventKind>(i);
  }
  return std::nullopt;
}

// Whether a message event carries a message (and a peer, a message id and a payload).
inline bool is_message_event(EventKind kind) {
  return kind == EventKind::kSend || kind == EventKind::kDeliver || kind == EventKind::kDrop ||
         kind == EventKind::kDuplicate;
}

// Keys of the oracle's facts (an event's `oracle` object).
namespace fact {
inline constexpr const char* kService = "service";  // a simulated service's facts on its replies
inline constexpr const char* kStale = "stale";      // the reply missed a write
inline constexpr const char* kVersionsBehind = "versions_behind";
inline constexpr const char* kDuplicate = "duplicate";  // the second copy of a message
inline constexpr const char* kClockOffset = "clock_offset_ns";
inline constexpr const char* kClockDrift = "clock_drift_ppm";
inline constexpr const char* kLostUnsyncedWrites = "lost_unsynced_writes";
inline constexpr const char* kOvertook = "overtook";  // SQL: the reads a commit changed
}  // namespace fact

// The oracle's facts about a service reply: under `service`, or the event's own (a system's
// replica reply). Null if none.
inline const nlohmann::json& service_facts(const nlohmann::json& oracle) {
  static const nlohmann::json kNone;
  if (!oracle.is_object()) return kNone;
  const auto it = oracle.find(fact::kService);
  return it != oracle.end() && it->is_object() ? *it : oracle;
}

// The one "is it stale?" test: the oracle marks the reply (or the service's facts on it) stale.
inline bool marked_stale(const nlohmann::json& oracle) {
  if (!oracle.is_object()) return false;
  const auto own = oracle.find(fact::kStale);
  if (own != oracle.end() && own->is_boolean() && own->get<bool>()) return true;
  const auto& f = service_facts(oracle);
  const auto it = f.find(fact::kStale);
  return it != f.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace seer::trace
