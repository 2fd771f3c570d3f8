// The transport's frames: a 4-byte big-endian length, then one JSON object
//   {"from": <id>, "to": <id>, "type": <payload type>, "body": <payload to_json()>}.
#pragma once

#include "seer/sim/message.hpp"

#include <cstddef>
#include <optional>
#include <string>

namespace seer::runtime::wire {

// Frames larger than this are refused (the connection is closed): a bound on what a peer, or a
// stray client on the port, can make the reader buffer.
constexpr std::size_t kMaxFrame = 16U << 20;

std::string encode(sim::ProcessId from, sim::ProcessId to, const sim::Payload& body);

struct Frame {
  sim::ProcessId from = sim::kNoProcess;
  sim::ProcessId to = sim::kNoProcess;
  std::string type;
  nlohmann::json body;
};

// Splits a byte stream into frames.
class Reader {
 public:
  void feed(const char* data, std::size_t n) { buffer_.append(data, n); }
  // The next whole frame's JSON text, if one has arrived. Throws std::runtime_error on a frame
  // over kMaxFrame.
  std::optional<std::string> next();

 private:
  std::string buffer_;
  std::size_t start_ = 0;
};

// Throws std::runtime_error (or nlohmann's exceptions) on text that is not a frame.
Frame parse(const std::string& text);

}  // namespace seer::runtime::wire
