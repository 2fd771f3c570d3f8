#include "seer/sim/trace.hpp"

#include <cstdio>

namespace seer::sim {

void TraceHash::mix(std::uint64_t v) {
  // FNV-1a over the 8 bytes of v: simple, documented, identical on every platform.
  for (int i = 0; i < 8; ++i) {
    hash_ ^= (v >> (8 * i)) & 0xffU;
    hash_ *= 0x100000001b3ULL;
  }
}

void TraceHash::add(const TraceEvent& e, std::string_view payload_type) {
  mix(e.seq);
  mix(static_cast<std::uint64_t>(e.time));
  mix(static_cast<std::uint64_t>(static_cast<std::int64_t>(e.process)));
  mix(static_cast<std::uint64_t>(e.kind));
  mix(static_cast<std::uint64_t>(static_cast<std::int64_t>(e.peer)));
  mix(e.message);
  mix(e.cause);
  for (char c : payload_type) mix(static_cast<unsigned char>(c));
}

std::string hash_hex(std::uint64_t hash) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash));
  return buf;
}

std::string event_to_line(const TraceEvent& e, const std::vector<std::string>& names) {
  // Ordered so a person reading the JSONL sees seq, time, process and kind first.
  nlohmann::ordered_json j;
  j["seq"] = e.seq;
  j["time"] = e.time;
  j["process"] = e.process == kNoProcess ? std::string("sim") : names.at(e.process);
  j["kind"] = event_kind_name(e.kind);
  nlohmann::json parents = nlohmann::json::array();
  if (e.previous != kNoEvent) parents.push_back(e.previous);
  if (e.cause != kNoEvent && e.cause != e.previous) parents.push_back(e.cause);
  j["parents"] = parents;
  if (e.peer != kNoProcess) j["peer"] = names.at(e.peer);
  if (e.message != 0) j["message"] = e.message;
  if (e.payload && e.payload->body) {
    j["type"] = e.payload->body->type();
    j["payload"] = e.payload->body->to_json();
  }
  if (!e.detail.is_null()) {
    for (auto& [k, v] : e.detail.items()) j[k] = v;
  }
  if (!e.oracle.is_null() && !e.oracle.empty()) j["oracle"] = e.oracle;
  return j.dump();
}

}  // namespace seer::sim
