#include "wire.hpp"

#include "seer/json_input.hpp"

#include <stdexcept>

namespace seer::runtime::wire {

std::string encode(sim::ProcessId from, sim::ProcessId to, const sim::Payload& body) {
  const std::string text = nlohmann::json{
      {"from", from},
      {"to", to},
      {"type", body.type()},
      {"body", body.to_json()}}.dump();
  std::string out(4, '\0');
  const auto n = static_cast<std::uint32_t>(text.size());
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((n >> (8 * (3 - i))) & 0xff);
  return out + text;
}

std::optional<std::string> Reader::next() {
  if (buffer_.size() - start_ < 4) return std::nullopt;
  std::uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<unsigned char>(buffer_[start_ + i]);
  if (n > kMaxFrame) throw std::runtime_error("a frame of " + std::to_string(n) + " bytes");
  if (buffer_.size() - start_ - 4 < n) return std::nullopt;
  std::string text = buffer_.substr(start_ + 4, n);
  start_ += 4 + n;
  if (start_ == buffer_.size() || start_ > (1U << 20)) {  // drop what was read, now and then
    buffer_.erase(0, start_);
    start_ = 0;
  }
  return text;
}

Frame parse(const std::string& text) {
  // Bounded: a peer's frame nested 100,000 deep parses, then overflows the stack where it is
  // dumped or compared; JsonTooDeep is a json::exception, as malformed frames throw.
  const auto j = parse_json_bounded(text);
  if (!j.is_object() || !j.contains("type") || !j.contains("body")) {
    throw std::runtime_error("a frame without type and body");
  }
  return {j.at("from").get<sim::ProcessId>(), j.at("to").get<sim::ProcessId>(),
          j.at("type").get<std::string>(), j.at("body")};
}

}  // namespace seer::runtime::wire
