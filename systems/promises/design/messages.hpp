// What the promises design's processes send each other. A request and its reply stand for one
// HTTP POST of the SDK's HttpNetwork (spec §8); a protocol message stands for one server-sent event
// on a worker's or client's poll stream. Each is final: Message::as<T> of a final T compares
// type_info instead of walking the class hierarchy (every process tests every message it gets).
#pragma once

#include "promises/model/request.hpp"
#include "seer/json_release.hpp"
#include "seer/sim/message.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace seer::promises::design {

// Client -> server: a request envelope {kind, head, data}. `call` is the sender's own number for
// it (a retry is a new call, like a new HTTP request). `life` is the server life it is for
// (fenced variants; 0: any, as over HTTP, where the connection does the fencing).
struct ProtocolRequest final : sim::Payload {
  ProtocolRequest(std::uint64_t c, nlohmann::json r, std::uint64_t l = 0)
      : call(c), request(std::move(r)), life(l) {}
  // With `request` parsed already (`p`: parse_request(r)'s Request, never a rejection).
  ProtocolRequest(std::uint64_t c, nlohmann::json r, std::shared_ptr<const Request> p)
      : call(c), request(std::move(r)), life(0), parsed(std::move(p)) {}
  // Freed depth first (json_release.hpp): a run frees every request and response it sent.
  ~ProtocolRequest() override { release_json(request); }
  std::uint64_t call;
  nlohmann::json request;
  std::uint64_t life;
  // parse_request(request), if the sender parsed it already (seer-resonate's front end, which
  // parses a request to route it to a loop; the simulated clients, which parse each request once
  // for the server and the history check): the server then does not parse it again. Null: the
  // server parses `request` (a malformed request, which it rejects). Not part of the message on a
  // wire (to_json): a real client sends only the JSON, and the server parses it on arrival.
  std::shared_ptr<const Request> parsed;
  std::string_view type() const override { return "protocol_request"; }
  nlohmann::json to_json() const override {
    nlohmann::json j = {{"call", call}, {"request", request}};
    if (life != 0) j["life"] = life;
    return j;
  }
};

// Client -> server, and back: opening a connection, which tells the client the server's life (a
// random number drawn when the server process starts), like a TCP handshake.
struct ConnectRequest final : sim::Payload {
  explicit ConnectRequest(std::uint64_t c) : call(c) {}
  std::uint64_t call;
  std::string_view type() const override { return "connect"; }
  nlohmann::json to_json() const override { return {{"call", call}}; }
};
struct ConnectReply final : sim::Payload {
  ConnectReply(std::uint64_t c, std::uint64_t l) : call(c), life(l) {}
  std::uint64_t call;
  std::uint64_t life;
  std::string_view type() const override { return "connected"; }
  nlohmann::json to_json() const override { return {{"call", call}, {"life", life}}; }
};
// Server -> client: a request for another life of this server, refused unexecuted (a TCP reset).
// The client cannot tell whether that earlier life executed it: the outcome is unknown.
struct ConnectionReset final : sim::Payload {
  explicit ConnectionReset(std::uint64_t c) : call(c) {}
  std::uint64_t call;
  std::string_view type() const override { return "connection_reset"; }
  nlohmann::json to_json() const override { return {{"call", call}}; }
};

// Server -> client: the response envelope, and the `now` the server applied the request at (the
// checker needs it, spec §10; a real server can report it in a response header).
struct ProtocolResponse final : sim::Payload {
  ProtocolResponse(std::uint64_t c, nlohmann::json r, std::int64_t n)
      : call(c), response(std::move(r)), now(n) {}
  ~ProtocolResponse() override { release_json(response); }
  std::uint64_t call;
  nlohmann::json response;
  std::int64_t now;
  std::string_view type() const override { return "protocol_response"; }
  nlohmann::json to_json() const override {
    return {{"call", call}, {"response", response}, {"now", now}};
  }
};

// Server -> worker or client: an `execute` or `unblock` message (spec §7).
struct ProtocolMessage final : sim::Payload {
  explicit ProtocolMessage(nlohmann::json m) : message(std::move(m)) {}
  ~ProtocolMessage() override { release_json(message); }
  nlohmann::json message;
  std::string_view type() const override { return "protocol_message"; }
  nlohmann::json to_json() const override { return message; }
};

// Server -> the deployment's mailroom (production: the HTTP front end's poll streams): a message
// for `address`, which the mailroom resolves to the processes listening there.
struct AddressedMessage final : sim::Payload {
  AddressedMessage(std::string a, nlohmann::json m)
      : address(std::move(a)), message(std::move(m)) {}
  ~AddressedMessage() override { release_json(message); }
  std::string address;
  nlohmann::json message;
  std::string_view type() const override { return "addressed_message"; }
  nlohmann::json to_json() const override { return {{"address", address}, {"message", message}}; }
};

}  // namespace seer::promises::design
