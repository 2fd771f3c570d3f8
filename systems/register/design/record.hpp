// On-disk record of a replica's register: one key per version, with a checksum so a torn write is
// detected and skipped at recovery instead of being taken for data.
#pragma once

#include "messages.hpp"
#include "seer/sim/storage.hpp"

#include <optional>
#include <string>

namespace seer::systems::reg {

struct Record {
  Tag tag;
  std::int64_t value = 0;
};

std::string record_key(const Tag& tag);
std::string encode_record(const Record& r);
std::optional<Record> decode_record(const std::string& bytes);
// The newest valid record among `keys` read through `read`; nullopt if none.
template <class Read>
std::optional<Record> newest_record(const std::vector<std::string>& keys, Read&& read) {
  std::optional<Record> best;
  for (const auto& key : keys) {
    auto bytes = read(key);
    if (!bytes) continue;
    auto r = decode_record(*bytes);
    if (r && (!best || r->tag > best->tag)) best = r;
  }
  return best;
}

}  // namespace seer::systems::reg
