// The trace hash's functions, checked against independent implementations of their definitions
// (docs/trace-format.md): the word mix of format 2 and FNV-1a of format 1.
#include "seer/sim/run_file.hpp"
#include "seer/sim/simulator.hpp"
#include "seer/sim/trace.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

namespace seer::sim {
namespace {

// The 128-bit product's halves XORed, from 32-bit limbs: no __int128 and no shortcut shared with
// the implementation.
std::uint64_t portable_fold(std::uint64_t a, std::uint64_t b) {
  const std::uint64_t a0 = a & 0xffffffffU;
  const std::uint64_t a1 = a >> 32U;
  const std::uint64_t b0 = b & 0xffffffffU;
  const std::uint64_t b1 = b >> 32U;
  const std::uint64_t p00 = a0 * b0;
  const std::uint64_t p01 = a0 * b1;
  const std::uint64_t p10 = a1 * b0;
  const std::uint64_t p11 = a1 * b1;
  const std::uint64_t middle = (p00 >> 32U) + (p01 & 0xffffffffU) + (p10 & 0xffffffffU);
  const std::uint64_t low = (p00 & 0xffffffffU) | (middle << 32U);
  const std::uint64_t high = p11 + (p01 >> 32U) + (p10 >> 32U) + (middle >> 32U);
  return low ^ high;
}

// The payload type: its length, then its bytes in little-endian 8-byte words, the last one short.
std::uint64_t reference_text_hash(const std::string& text) {
  std::uint64_t h = portable_fold(text.size() ^ TraceHash::kMix0, TraceHash::kMix1);
  for (std::size_t at = 0; at < text.size(); at += 8) {
    std::uint64_t word = 0;
    for (std::size_t i = 0; i < 8 && at + i < text.size(); ++i) {
      word |= static_cast<std::uint64_t>(static_cast<unsigned char>(text[at + i])) << (8 * i);
    }
    const bool whole = at + 8 <= text.size();
    h = portable_fold(h ^ word, whole ? TraceHash::kMix2 : TraceHash::kMix3);
  }
  return h;
}

std::uint64_t reference_word_mix(std::uint64_t h, const TraceEvent& e, const std::string& type) {
  const std::uint64_t ends =
      (static_cast<std::uint64_t>(static_cast<std::uint32_t>(e.process)) << 32U) |
      static_cast<std::uint32_t>(e.peer);
  const std::uint64_t what =
      reference_text_hash(type) ^ (static_cast<std::uint64_t>(e.kind) * TraceHash::kMix2);
  const std::uint64_t when = portable_fold(e.seq ^ TraceHash::kMix0,
                                           static_cast<std::uint64_t>(e.time) ^ TraceHash::kMix1);
  const std::uint64_t who = portable_fold(ends ^ TraceHash::kMix2, e.message ^ TraceHash::kMix3);
  const std::uint64_t why = portable_fold(e.cause ^ TraceHash::kMix1, what ^ TraceHash::kMix0);
  return portable_fold(h ^ when ^ TraceHash::kMix3, who ^ why ^ TraceHash::kMix2);
}

class Words {
 public:
  // Zero, all ones, sparse and dense values of every width.
  std::uint64_t next() {
    switch (rng_() % 5) {
      case 0:
        return 0;
      case 1:
        return ~std::uint64_t{0};
      case 2:
        return std::uint64_t{1} << (rng_() % 64);
      default:
        return rng_() >> (rng_() % 64);
    }
  }
  TraceEvent event() {
    TraceEvent e;
    e.seq = next();
    e.time = static_cast<Time>(next());
    e.process = static_cast<ProcessId>(static_cast<std::int64_t>(next() % 7) - 1);
    e.kind = static_cast<EventKind>(rng_() % 6);
    e.peer = static_cast<ProcessId>(static_cast<std::int64_t>(next() % 7) - 1);
    e.message = next();
    e.cause = next();
    return e;
  }
  std::string type() {
    std::string t(rng_() % 20, 'a');
    for (auto& c : t) c = static_cast<char>(rng_() % 256);
    return t;
  }

 private:
  std::mt19937_64 rng_{11};
};

TEST(TraceHash, FoldIsTheProductsHalvesXored) {
  Words words;
  for (int i = 0; i < 20000; ++i) {
    const auto a = words.next();
    const auto b = words.next();
    ASSERT_EQ(TraceHash::fold(a, b), portable_fold(a, b)) << a << " * " << b;
  }
}

TEST(TraceHash, TextHashReadsEveryLengthLittleEndian) {
  Words words;
  for (int i = 0; i < 5000; ++i) {
    const auto text = words.type();
    ASSERT_EQ(TraceHash::text_hash(text), reference_text_hash(text)) << text.size() << " bytes";
  }
  // Lengths 0 to 24 over the same bytes: each length its own value.
  const std::string bytes = "abcdefghijklmnopqrstuvwx";
  std::set<std::uint64_t> seen;
  for (std::size_t n = 0; n <= bytes.size(); ++n)
    seen.insert(TraceHash::text_hash(bytes.substr(0, n)));
  EXPECT_EQ(seen.size(), bytes.size() + 1);
}

TEST(TraceHash, WordMixFollowsItsDefinition) {
  Words words;
  for (int round = 0; round < 2000; ++round) {
    TraceHash hash;
    std::uint64_t expected = TraceHash::kWordMixStart;
    for (int k = 0; k < 1 + round % 4; ++k) {
      const auto e = words.event();
      const auto type = words.type();
      hash.add(e, type);
      expected = reference_word_mix(expected, e, type);
    }
    ASSERT_EQ(hash.value(), expected) << "round " << round;
  }
}

// A payload named by its data, as a user's generic message type may be.
struct NamedPayload : Payload {
  explicit NamedPayload(std::string n) : name(std::move(n)) {}
  NamedPayload(const NamedPayload& other, std::string renamed)
      : Payload(other), name(std::move(renamed)) {}
  std::string name;
  std::string_view type() const override { return name; }
  nlohmann::json to_json() const override { return name; }
};

// An event about a payload hashes its type's text, kept with the payload after its first event:
// the same value as hashing the text at every event, for a payload hashed many times, for no
// payload, and for a copy renamed by its copy constructor (a copy starts without the original's).
TEST(TraceHash, APayloadsTypeIsHashedAsItsText) {
  Words words;
  for (int round = 0; round < 500; ++round) {
    const NamedPayload original(words.type());
    TraceHash by_payload;
    std::uint64_t expected = TraceHash::kWordMixStart;
    const auto add = [&](const Payload* body) {
      const auto e = words.event();
      by_payload.add(e, body);
      expected = reference_word_mix(expected, e, body ? std::string(body->type()) : std::string());
    };
    add(&original);  // its type's hash is now kept with it
    const NamedPayload renamed(original, words.type() + "'");
    for (int k = 0; k < 6; ++k) add(k % 3 == 0 ? nullptr : k % 3 == 1 ? &original : &renamed);
    ASSERT_EQ(by_payload.value(), expected) << "round " << round;
  }
}

// Format 1's events about a payload hash its type's text byte by byte, as before.
TEST(TraceHash, APayloadsTypeInFormatOneIsItsText) {
  Words words;
  const NamedPayload body(words.type());
  const auto e = words.event();
  TraceHash by_payload(TraceHashFunction::kFnv1a);
  TraceHash by_text(TraceHashFunction::kFnv1a);
  by_payload.add(e, &body);
  by_text.add(e, body.type());
  EXPECT_EQ(by_payload.value(), by_text.value());
}

// Any one field's change, a single bit or a whole character, changes the hash, and so does the
// order of two events: a hash equal between runs means the same events in the same order.
TEST(TraceHash, EveryFieldAndTheOrderOfEventsCount) {
  Words words;
  const auto hash_of = [](const std::vector<std::pair<TraceEvent, std::string>>& events) {
    TraceHash h;
    for (const auto& [e, type] : events) h.add(e, type);
    return h.value();
  };
  for (int round = 0; round < 1000; ++round) {
    const auto a = words.event();
    const auto b = words.event();
    const auto type = words.type();
    const auto base = hash_of({{a, type}, {b, type}});
    const auto bit = std::uint64_t{1} << (round % 64);
    for (int field = 0; field < 8; ++field) {
      auto changed = a;
      auto changed_type = type;
      switch (field) {
        case 0:
          changed.seq ^= bit;
          break;
        case 1:
          changed.time ^= static_cast<Time>(bit);
          break;
        case 2:
          changed.process ^= static_cast<ProcessId>(1U << (round % 31));
          break;
        case 3:
          changed.kind = static_cast<EventKind>((static_cast<int>(a.kind) + 1) % 6);
          break;
        case 4:
          changed.peer ^= static_cast<ProcessId>(1U << (round % 31));
          break;
        case 5:
          changed.message ^= bit;
          break;
        case 6:
          changed.cause ^= bit;
          break;
        default:
          changed_type += static_cast<char>(round % 256);
          break;
      }
      ASSERT_NE(hash_of({{changed, changed_type}, {b, type}}), base)
          << "round " << round << ", field " << field;
    }
    if (a.seq != b.seq || a.time != b.time || a.message != b.message) {
      ASSERT_NE(hash_of({{b, type}, {a, type}}), base) << "round " << round << ": order";
    }
  }
}

// Format 1 (every file written before the word mix): FNV-1a over the 8 bytes of each field, low
// byte first, then one word per character of the payload type. A plain byte loop gives the same
// value for words of every length (zero, one byte, zero bytes in the middle, all set, negative
// ids).
TEST(TraceHash, Fnv1aOfFormatOneIsOverEveryFieldsEightBytes) {
  const auto reference = [](const std::vector<std::uint64_t>& values) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const auto w : values) {
      for (int i = 0; i < 8; ++i) {
        h ^= (w >> (8 * i)) & 0xffU;
        h *= 0x100000001b3ULL;
      }
    }
    return h;
  };
  Words words;
  for (int round = 0; round < 2000; ++round) {
    TraceHash hash(TraceHashFunction::kFnv1a);
    std::vector<std::uint64_t> values;
    for (int k = 0; k < 1 + round % 4; ++k) {
      const auto e = words.event();
      const auto type = words.type();
      hash.add(e, type);
      values.insert(values.end(), {e.seq, static_cast<std::uint64_t>(e.time),
                                   static_cast<std::uint64_t>(static_cast<std::int64_t>(e.process)),
                                   static_cast<std::uint64_t>(e.kind),
                                   static_cast<std::uint64_t>(static_cast<std::int64_t>(e.peer)),
                                   e.message, e.cause});
      for (const char c : type) values.push_back(static_cast<unsigned char>(c));
    }
    ASSERT_EQ(hash.value(), reference(values)) << "round " << round;
  }
}

TEST(TraceHash, AFilesFormatNamesItsFunction) {
  EXPECT_EQ(hash_function_of_format(1), TraceHashFunction::kFnv1a);
  EXPECT_EQ(hash_function_of_format(2), TraceHashFunction::kWordMix);
  EXPECT_EQ(format_of_hash_function(TraceHashFunction::kFnv1a, 2), 1);
  EXPECT_EQ(format_of_hash_function(TraceHashFunction::kWordMix, 2), 2);
}

// A run file says the format of the hash it holds, and reading it back gives that function: a
// file written from the replay of a format 1 file stays format 1, a new one is the newest format.
TEST(TraceHash, ARunFileKeepsTheFormatOfItsHash) {
  RunConfig config;
  config.seed = 3;
  RunResult result;
  for (const auto function : {TraceHashFunction::kFnv1a, TraceHashFunction::kWordMix}) {
    config.hash_function = function;
    const auto j = run_file_json("counter", "naive", config, result);
    EXPECT_EQ(j.at("seer_run"), format_of_hash_function(function, trace::kRunFormat));
    EXPECT_EQ(parse_run_fields(j).config.hash_function, function);
  }
}

}  // namespace
}  // namespace seer::sim
