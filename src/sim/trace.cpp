#include "seer/sim/trace.hpp"

#include <array>
#include <cstdio>

namespace seer::sim {

namespace {

constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;
// kFnvPrime to the powers 0..8 (mod 2^64).
constexpr std::array<std::uint64_t, 9> kFnvPrimePowers = [] {
  std::array<std::uint64_t, 9> powers{};
  powers[0] = 1;
  for (std::size_t i = 1; i < powers.size(); ++i) powers[i] = powers[i - 1] * kFnvPrime;
  return powers;
}();

}  // namespace

TraceHash::TraceHash(TraceHashFunction function)
    : function_(function),
      hash_(function == TraceHashFunction::kFnv1a ? 0xcbf29ce484222325ULL : kWordMixStart) {}

void TraceHash::mix_fnv1a(std::uint64_t v) {
  // FNV-1a over the 8 bytes of v, low byte first. XOR with a zero byte changes nothing, so v's high
  // zero bytes are one multiplication by a power of the prime: the same value in fewer dependent
  // steps (most fields are small numbers, and a payload type's characters are mixed one per word).
  if (v < 0x100U) {  // a kind, a small id, a character: one step and seven zero bytes
    hash_ = (hash_ ^ v) * kFnvPrimePowers[8];
    return;
  }
  int bytes = 0;
  for (std::uint64_t rest = v; rest != 0; rest >>= 8) {
    hash_ ^= rest & 0xffU;
    hash_ *= kFnvPrime;
    ++bytes;
  }
  hash_ *= kFnvPrimePowers[static_cast<std::size_t>(8 - bytes)];
}

void TraceHash::add_fnv1a(const TraceEvent& e, std::string_view payload_type) {
  mix_fnv1a(e.seq);
  mix_fnv1a(static_cast<std::uint64_t>(e.time));
  mix_fnv1a(static_cast<std::uint64_t>(static_cast<std::int64_t>(e.process)));
  mix_fnv1a(static_cast<std::uint64_t>(e.kind));
  mix_fnv1a(static_cast<std::uint64_t>(static_cast<std::int64_t>(e.peer)));
  mix_fnv1a(e.message);
  mix_fnv1a(e.cause);
  for (char c : payload_type) mix_fnv1a(static_cast<unsigned char>(c));
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
  if (e.site.known()) j["at"] = std::string(e.site.file) + ":" + std::to_string(e.site.line);
  if (!e.oracle.is_null() && !e.oracle.empty()) j["oracle"] = e.oracle;
  return j.dump();
}

}  // namespace seer::sim
