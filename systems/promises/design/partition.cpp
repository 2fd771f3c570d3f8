#include "partition.hpp"

#include "promises/model/state_codec.hpp"

#include <stdexcept>

namespace seer::promises::design {

std::string partition_key(std::string_view origin) {
  return std::string(kPartitionPrefix) + std::string(origin);
}

std::optional<std::string> origin_of_key(std::string_view key) {
  if (key.substr(0, kPartitionPrefix.size()) != kPartitionPrefix) return std::nullopt;
  return std::string(key.substr(kPartitionPrefix.size()));
}

SharedPartition DecodedPartitions::find(const std::string& origin, std::int64_t revision) const {
  const auto it = latest_.find(origin);
  if (it == latest_.end() || it->second->revision != revision) return nullptr;
  return it->second;
}

void DecodedPartitions::keep(const std::string& origin, SharedPartition partition) {
  auto& kept = latest_[origin];
  if (!kept || kept->revision <= partition->revision) kept = std::move(partition);
}

nlohmann::json encode_partition(const State& state, std::int64_t clock) {
  nlohmann::json j = {{"state", state_to_json(state)}};
  if (clock != kNoClock) j["clock"] = clock;
  return j;
}

nlohmann::json DecodedPartitionValue::encode() const {
  return encode_partition(*state, clock);
}

State decode_state(const nlohmann::json& value) {
  if (!value.is_object() || !value.contains("state")) {
    throw std::invalid_argument("partition value has no state");
  }
  return state_from_json(value["state"]);
}

Partition decode_partition(const services::KvSharedResult& read) {
  if (read.status == services::KvStatus::kNotFound) return Partition{};
  return decode_version(read.revision, *read.value);
}

Partition read_partition(const services::KvSharedResult& read) {
  if (read.status == services::KvStatus::kOk) {
    if (const auto* written = dynamic_cast<const DecodedPartitionValue*>(read.decoded.get())) {
      return Partition{*written->state, written->clock, read.revision};
    }
  }
  return decode_partition(read);
}

Partition decode_version(std::int64_t revision, const nlohmann::json& value) {
  Partition p;
  p.revision = revision;
  p.state = decode_state(value);
  const auto clock = value.find("clock");
  if (clock != value.end() && clock->is_number_integer()) p.clock = clock->get<std::int64_t>();
  return p;
}

}  // namespace seer::promises::design
