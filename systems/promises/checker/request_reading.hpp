// A request's parse made by the client that records and sends it, for the history check: the
// promises model reads an invocation's request with it instead of parsing the recorded JSON again,
// when the recorded request is still identical to the one parsed (check::InputReading::reads).
#pragma once

#include "promises/model/parse.hpp"
#include "seer/check/history.hpp"

#include <memory>
#include <utility>

namespace seer::promises {

struct RequestReading final : check::InputReading {
  // `request`: the JSON parsed (kept, never changed); `parsed`: parse_request(*request)'s Request
  // (a malformed request gets no reading: the checker parses and rejects it itself).
  RequestReading(std::shared_ptr<const nlohmann::json> request,
                 std::shared_ptr<const Request> parsed_request)
      : InputReading(std::move(request)), parsed(std::move(parsed_request)) {}
  std::shared_ptr<const Request> parsed;
};

}  // namespace seer::promises
