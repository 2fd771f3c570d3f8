// What the promises design's processes send each other. A request and its reply stand for one
// HTTP POST of the SDK's HttpNetwork (spec §8); a protocol message stands for one server-sent event
// on a worker's or client's poll stream.
#pragma once

#include "seer/sim/message.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace seer::promises::design {

// Client -> server: a request envelope {kind, head, data}. `call` is the sender's own number for
// it (a retry is a new call, like a new HTTP request).
struct ProtocolRequest : sim::Payload {
  ProtocolRequest(std::uint64_t c, nlohmann::json r) : call(c), request(std::move(r)) {}
  std::uint64_t call;
  nlohmann::json request;
  std::string_view type() const override { return "protocol_request"; }
  nlohmann::json to_json() const override { return {{"call", call}, {"request", request}}; }
};

// Server -> client: the response envelope, and the `now` the server applied the request at (the
// checker needs it, spec §10; a real server can report it in a response header).
struct ProtocolResponse : sim::Payload {
  ProtocolResponse(std::uint64_t c, nlohmann::json r, std::int64_t n)
      : call(c), response(std::move(r)), now(n) {}
  std::uint64_t call;
  nlohmann::json response;
  std::int64_t now;
  std::string_view type() const override { return "protocol_response"; }
  nlohmann::json to_json() const override {
    return {{"call", call}, {"response", response}, {"now", now}};
  }
};

// Server -> worker or client: an `execute` or `unblock` message (spec §7).
struct ProtocolMessage : sim::Payload {
  explicit ProtocolMessage(nlohmann::json m) : message(std::move(m)) {}
  nlohmann::json message;
  std::string_view type() const override { return "protocol_message"; }
  nlohmann::json to_json() const override { return message; }
};

// Server -> the deployment's mailroom (production: the HTTP front end's poll streams): a message
// for `address`, which the mailroom resolves to the processes listening there.
struct AddressedMessage : sim::Payload {
  AddressedMessage(std::string a, nlohmann::json m)
      : address(std::move(a)), message(std::move(m)) {}
  std::string address;
  nlohmann::json message;
  std::string_view type() const override { return "addressed_message"; }
  nlohmann::json to_json() const override { return {{"address", address}, {"message", message}}; }
};

}  // namespace seer::promises::design
