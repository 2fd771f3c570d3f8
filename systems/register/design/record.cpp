#include "record.hpp"

#include <cstdio>
#include <cstdlib>

namespace seer::systems::reg {

namespace {
std::uint64_t checksum(const std::string& s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}
}  // namespace

std::string record_key(const Tag& tag) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "reg/%016lld/%06lld", static_cast<long long>(tag.seq),
                static_cast<long long>(tag.writer));
  return buf;
}

std::string encode_record(const Record& r) {
  const std::string body = std::to_string(r.tag.seq) + " " + std::to_string(r.tag.writer) + " " +
                           std::to_string(r.value);
  return body + " " + std::to_string(checksum(body));
}

std::optional<Record> decode_record(const std::string& bytes) {
  const auto last_space = bytes.rfind(' ');
  if (last_space == std::string::npos) return std::nullopt;
  const std::string body = bytes.substr(0, last_space);
  if (std::to_string(checksum(body)) != bytes.substr(last_space + 1)) return std::nullopt;
  Record r;
  long long seq = 0, writer = 0, value = 0;
  if (std::sscanf(body.c_str(), "%lld %lld %lld", &seq, &writer, &value) != 3) return std::nullopt;
  r.tag = {seq, writer};
  r.value = value;
  return r;
}

}  // namespace seer::systems::reg
