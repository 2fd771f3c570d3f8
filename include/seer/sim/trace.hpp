// The trace: every event of a run, in order, with causal parents and the oracle's annotations.
//
// The trace hash is computed for every run (recorded or not) over each event's identity: sequence,
// time, process, kind, peer, message id, causal parent and payload type. Two runs with the same
// hash made the same choices in the same order. The JSONL rendering (docs/trace-format.md) is
// produced only when a trace is recorded, because building annotations costs far more than running
// the event.
#pragma once

#include "seer/sim/code_site.hpp"
#include "seer/sim/message.hpp"
#include "seer/sim/time.hpp"
#include "seer/trace/vocabulary.hpp"

#include <nlohmann/json.hpp>

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace seer::sim {

using EventKind = trace::EventKind;
using trace::event_kind_name;

constexpr std::uint64_t kNoEvent = 0;  // sequence numbers start at 1

struct TraceEvent {
  std::uint64_t seq = 0;
  Time time = 0;
  ProcessId process = kNoProcess;  // kNoProcess: the simulator itself (partitions, heals)
  EventKind kind = EventKind::kStart;
  ProcessId peer = kNoProcess;        // the other end of a message
  std::uint64_t message = 0;          // message id, for send/deliver/drop/duplicate
  std::uint64_t previous = kNoEvent;  // previous event on the same process
  std::uint64_t cause = kNoEvent;     // the send behind a delivery, the set behind a timer, ...
  const Message* payload = nullptr;   // only valid while annotators run
  nlohmann::json detail;              // kind-specific fields (only when recording)
  nlohmann::json oracle;              // forbidden facts (only when recording)
  // The algorithm's line behind it (a send, the receive a delivery woke, a timer's wait, a disk
  // access): written as "at", never hashed (a line moves when code is edited; the run does not).
  CodeSite site;
};

// The function behind a run's trace hash. Files of format 1 (traces and run files) hold FNV-1a
// hashes; format 2 brought the word mix, which is what runs compute now. A replay of an older file
// computes that file's function (RunConfig::hash_function), so its recorded hash still compares.
enum class TraceHashFunction : std::uint8_t {
  // FNV-1a over each field's 8 bytes, low byte first: byte-serial, a multiplication per byte.
  kFnv1a,
  // Each event's fields folded in pairs by 64x64->128-bit multiplications that do not depend on the
  // previous events, then one such multiplication chains the event into the hash: a run's hash no
  // longer waits on ~20 dependent multiplications per event (40% of a ping-pong delivery's time).
  kWordMix,
};

// The hash function of a trace or run file of format `version`, and the version a file holding
// `function`'s hashes is written with (the newest one for the current function).
constexpr TraceHashFunction hash_function_of_format(int version) {
  return version < 2 ? TraceHashFunction::kFnv1a : TraceHashFunction::kWordMix;
}
constexpr int format_of_hash_function(TraceHashFunction function, int newest) {
  return function == TraceHashFunction::kFnv1a ? 1 : newest;
}

class TraceHash {
 public:
  explicit TraceHash(TraceHashFunction function = TraceHashFunction::kWordMix);
  void add(const TraceEvent& e, std::string_view payload_type) {
    if (function_ == TraceHashFunction::kWordMix) {
      add_word_mix(e, text_hash(payload_type));
    } else {
      add_fnv1a(e, payload_type);
    }
  }
  // The same for an event about `body` (nullptr: none), its type's hash computed once per payload.
  // Inlined into the simulator's emit: a call's own cost was a sixth of the hash's (ping-pong).
  [[gnu::always_inline]] void add(const TraceEvent& e, const Payload* body) {
    if (function_ == TraceHashFunction::kWordMix) [[likely]] {
      add_word_mix(e, body ? type_hash_of(*body) : text_hash({}));
    } else {
      add_fnv1a(e, body ? body->type() : std::string_view{});
    }
  }
  std::uint64_t value() const { return hash_; }

  // The word mix's step: the 128-bit product of a and b, its halves XORed. Public for the test that
  // checks it against a portable 32-bit implementation.
  static std::uint64_t fold(std::uint64_t a, std::uint64_t b) {
    __extension__ using Wide = unsigned __int128;
    const Wide product = static_cast<Wide>(a) * b;
    return static_cast<std::uint64_t>(product) ^ static_cast<std::uint64_t>(product >> 64U);
  }
  // The word mix's hash of a payload type: its bytes in little-endian 8-byte words, and its length.
  static std::uint64_t text_hash(std::string_view text) {
    std::uint64_t h = fold(text.size() ^ kMix0, kMix1);
    std::size_t at = 0;
    for (; at + 8 <= text.size(); at += 8) h = fold(h ^ little_endian_word(text, at, 8), kMix2);
    if (at < text.size()) h = fold(h ^ little_endian_word(text, at, text.size() - at), kMix3);
    return h;
  }

  // Odd constants with well-spread bits (fractional parts of square roots, the golden ratio), XORed
  // into each operand so that no zero field zeroes a product (docs/trace-format.md).
  static constexpr std::uint64_t kMix0 = 0x9e3779b97f4a7c15ULL;
  static constexpr std::uint64_t kMix1 = 0x6a09e667f3bcc909ULL;
  static constexpr std::uint64_t kMix2 = 0xbb67ae8584caa73bULL;
  static constexpr std::uint64_t kMix3 = 0x3c6ef372fe94f82bULL;
  static constexpr std::uint64_t kWordMixStart = 0x510e527fade682d1ULL;

 private:
  // Bytes [at, at + n) of text, n <= 8, as a little-endian word: the same on every platform.
  static std::uint64_t little_endian_word(std::string_view text, std::size_t at, std::size_t n) {
    const auto byte = [&](std::size_t i) {
      return static_cast<std::uint64_t>(static_cast<unsigned char>(text[at + i])) << (8 * i);
    };
    if constexpr (std::endian::native == std::endian::little) {
      // Whole loads, overlapping for 3, 5, 6 and 7 bytes (an overlapped byte is ORed onto itself).
      if (n == 8) {
        std::uint64_t w = 0;
        std::memcpy(&w, text.data() + at, 8);
        return w;
      }
      if (n >= 4) {
        std::uint32_t low = 0;
        std::uint32_t high = 0;
        std::memcpy(&low, text.data() + at, 4);
        std::memcpy(&high, text.data() + at + n - 4, 4);
        return low | (static_cast<std::uint64_t>(high) << (8 * (n - 4)));
      }
      if (n == 0) return 0;
      return byte(0) | byte(n / 2) | byte(n - 1);
    } else {
      std::uint64_t w = 0;
      for (std::size_t i = 0; i < n; ++i) w |= byte(i);
      return w;
    }
  }

  [[gnu::always_inline]] static std::uint64_t type_hash_of(const Payload& body) {
    if (body.type_hash_ == 0) [[unlikely]] {
      remember_type_hash(body);
    }
    return body.type_hash_;
  }
  [[gnu::noinline]] static void remember_type_hash(const Payload& body) {
    body.type_hash_ = text_hash(body.type());
  }
  [[gnu::always_inline]] void add_word_mix(const TraceEvent& e, std::uint64_t payload_type_hash) {
    const auto process = static_cast<std::uint32_t>(e.process);
    const auto peer = static_cast<std::uint32_t>(e.peer);
    const std::uint64_t ends = (static_cast<std::uint64_t>(process) << 32U) | peer;
    const std::uint64_t what = payload_type_hash ^ (static_cast<std::uint64_t>(e.kind) * kMix2);
    // Three products of the event's own fields, independent of the hash so far: they run in
    // parallel with the chain, which is one XOR and one multiplication per event.
    const std::uint64_t when = fold(e.seq ^ kMix0, static_cast<std::uint64_t>(e.time) ^ kMix1);
    const std::uint64_t who = fold(ends ^ kMix2, e.message ^ kMix3);
    const std::uint64_t why = fold(e.cause ^ kMix1, what ^ kMix0);
    hash_ = fold(hash_ ^ when ^ kMix3, who ^ why ^ kMix2);
  }
  void add_fnv1a(const TraceEvent& e, std::string_view payload_type);
  void mix_fnv1a(std::uint64_t v);

  TraceHashFunction function_;
  std::uint64_t hash_;
};

std::string hash_hex(std::uint64_t hash);

// Renders one event as its JSONL line (no newline).
std::string event_to_line(const TraceEvent& e, const std::vector<std::string>& process_names);

}  // namespace seer::sim
