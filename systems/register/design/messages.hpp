// Wire messages of the quorum register (ABD). A tag orders writes: (sequence, writer) compared
// lexically.
#pragma once

#include "seer/sim/message.hpp"

#include <cstdint>
#include <string_view>
#include <tuple>

namespace seer::systems::reg {

struct Tag {
  std::int64_t seq = 0;
  std::int64_t writer = 0;
  // clang-tidy 14 reads the defaulted <=>'s synthesized `0` comparison as a null pointer.
  auto operator<=>(const Tag&) const = default;  // NOLINT(modernize-use-nullptr)
  nlohmann::json to_json() const { return {seq, writer}; }
};

struct Query : sim::Payload {
  Query(std::uint64_t r) : req(r) {}
  std::uint64_t req;
  std::string_view type() const override { return "query"; }
  nlohmann::json to_json() const override { return {{"req", req}}; }
};

struct QueryReply : sim::Payload {
  QueryReply(std::uint64_t r, Tag t, std::int64_t v) : req(r), tag(t), value(v) {}
  std::uint64_t req;
  Tag tag;
  std::int64_t value;
  std::string_view type() const override { return "query_reply"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"tag", tag.to_json()}, {"value", value}};
  }
};

struct Store : sim::Payload {
  Store(std::uint64_t r, Tag t, std::int64_t v) : req(r), tag(t), value(v) {}
  std::uint64_t req;
  Tag tag;
  std::int64_t value;
  std::string_view type() const override { return "store"; }
  nlohmann::json to_json() const override {
    return {{"req", req}, {"tag", tag.to_json()}, {"value", value}};
  }
};

struct StoreAck : sim::Payload {
  StoreAck(std::uint64_t r, Tag t) : req(r), tag(t) {}
  std::uint64_t req;
  Tag tag;
  std::string_view type() const override { return "store_ack"; }
  nlohmann::json to_json() const override { return {{"req", req}, {"tag", tag.to_json()}}; }
};

}  // namespace seer::systems::reg
